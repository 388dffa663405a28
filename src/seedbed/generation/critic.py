"""The optional critic: an LLM that scores each candidate against a rubric.

It sees the candidate and a few seeds, and answers ``{"score": 0..1, "reason": "..."}``:
is this realistic for the application the seeds come from, are its input and expected
output consistent (the label right for the text), is it on the seeds' domain, does it fit
the kind of case asked for. A sample below the threshold is refused (``critic``) and topped
up like any other refusal; the score and reason are kept with every sample. A critic call
that fails leaves the sample to the rules alone.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from seedbed.generation.cache import ResponseCache, request_key
from seedbed.generation.judge import CriticVerdict
from seedbed.generation.parsing import parse_samples
from seedbed.generation.pricing import Price, price_of
from seedbed.providers.base import CompletionRequest, Message, Provider, ProviderError, Usage

_RUBRIC = (
    "You review synthetic test cases for an LLM application. Score the candidate from 0 to 1:"
    " 1 when it is realistic for the application the examples come from, its input and its"
    " expected output or label are consistent and correct, it stays in the examples'"
    " subject area, and it fits the kind of case asked for; 0 when it fails any of these"
    ' badly. Answer with JSON only: {"score": <number>, "reason": "<one short sentence>"}.'
)
_CRITIC_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}


class LLMCritic:
    def __init__(
        self,
        provider: Provider,
        model: str,
        *,
        threshold: float,
        cache: ResponseCache | None = None,
        random_seed: int = 0,
        examples: Sequence[Mapping[str, Any]] = (),
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.threshold = threshold
        self.cache = cache
        self.random_seed = random_seed
        self.examples = list(examples)[:3]
        self.price = price_of(f"{provider.name}/{model}", prices)
        self.calls = 0
        self.usage = Usage()
        self.cost = 0.0

    async def review(
        self, sample: Mapping[str, Any], data_type: str | None
    ) -> CriticVerdict | None:
        request = CompletionRequest(
            model=self.model,
            messages=self.messages(sample, data_type),
            temperature=0.0,
            max_tokens=200,
            json_schema=_CRITIC_SCHEMA,
            seed=self.random_seed,
        )
        key = request_key(self.provider.name, request)
        completion = await self.cache.get(key) if self.cache is not None else None
        if completion is None:
            try:
                completion = await self.provider.complete(request)
            except ProviderError:
                return None
            self.calls += 1
            self.usage = self.usage + completion.usage
            self.cost += self.price.cost(completion.usage) if self.price else 0.0
            if self.cache is not None:
                await self.cache.put(key, completion)
        return self.verdict(completion.text)

    def messages(self, sample: Mapping[str, Any], data_type: str | None) -> tuple[Message, ...]:
        shown = "\n".join(json.dumps(example, ensure_ascii=False) for example in self.examples)
        kind = f"\nKind of case asked for: {data_type}" if data_type else ""
        body = (
            f"Examples from the dataset:\n{shown}\n{kind}\n"
            f"Candidate:\n{json.dumps(sample, ensure_ascii=False)}"
        )
        return (Message("system", _RUBRIC), Message("user", body))

    def verdict(self, text: str) -> CriticVerdict | None:
        parsed = parse_samples(text).samples
        answer = parsed[0] if parsed and isinstance(parsed[0], Mapping) else None
        if answer is None or not isinstance(answer.get("score"), int | float):
            return None
        score = min(1.0, max(0.0, float(answer["score"])))
        reason = str(answer.get("reason", ""))[:300]
        return CriticVerdict(score, score >= self.threshold, reason)
