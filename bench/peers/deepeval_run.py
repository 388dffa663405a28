"""DeepEval's side of ``bench/generation_peers.py``; run by DeepEval's own virtualenv.

    DEEPEVAL_TELEMETRY_OPT_OUT=YES bench/.venvs/deepeval/bin/python bench/peers/deepeval_run.py \\
        --base-url http://127.0.0.1:PORT/v1 --seeds seeds.json --count 1000 \\
        --concurrency 16 --out samples.jsonl

The closest DeepEval idiom for "1,000 new samples like these seeds":
``Synthesizer.generate_goldens_from_goldens``, the method that takes example goldens
(``generate_goldens_from_scratch`` takes none: it needs a hand-written scenario, task and
input format). Each seed becomes ``Golden(input=question, expected_output=answer,
additional_metadata={"intent": ...})`` and the call asks ``count ÷ seeds`` goldens per
golden. Choices and what DeepEval does with them:

- Seeds without ``context`` send DeepEval down its from-scratch path: one call extracts a
  scenario, task and input format from the seed inputs, ONE call asks for all the inputs
  at once ("You MUST TRY to generate N data points"), then each input is evolved
  ``num_evolutions`` times (default 1), one call per evolution. That path writes inputs
  only: ``include_expected_output`` applies to the contexts path, so no expected outputs.
- ``Synthesizer(async_mode=True, max_concurrent=concurrency)``: the semaphore around the
  evolutions is DeepEval's concurrency limit.
- ``OpenAIModel(model="gpt-4o-mini", base_url=...)``: a model DeepEval knows, so it sends
  JSON-schema structured-output requests; retries are DeepEval's own (tenacity; the
  OpenAI SDK's are switched off by DeepEval).

Every golden goes to ``--out`` as ``{"input", "expected_output"}`` for the caller to
judge; the one JSON line on stdout is ``{"tool", "asked", "delivered", "unique",
"wall_seconds", "error"}``, where ``unique`` counts exactly distinct goldens (DeepEval
itself removes none) and ``wall_seconds`` times the generate call alone.
"""

import argparse
import json
import math
import os
import sys
import time
import traceback

TOOL = "deepeval"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True, help="the stub's OpenAI base URL, …/v1")
    parser.add_argument(
        "--seeds", required=True, help="a JSON file holding the list of seed objects"
    )
    parser.add_argument("--count", type=int, required=True, help="how many samples to ask for")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument(
        "--out", required=True, help="where to write the goldens, one JSON line each"
    )
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument(
        "--answer-as-context",
        action="store_true",
        help="give each seed golden its answer as context: DeepEval's contexts path",
    )
    return parser.parse_args()


def generate(options: argparse.Namespace, seeds: list[dict]) -> tuple[list[dict], float]:
    from deepeval.dataset import Golden
    from deepeval.models import OpenAIModel
    from deepeval.synthesizer import Synthesizer

    model = OpenAIModel(model=options.model, base_url=options.base_url, api_key="bench")
    synthesizer = Synthesizer(model=model, async_mode=True, max_concurrent=options.concurrency)
    goldens = [
        Golden(
            input=seed["question"],
            expected_output=seed["answer"],
            context=[seed["answer"]] if options.answer_as_context else None,
            additional_metadata={"intent": seed["intent"]},
        )
        for seed in seeds
    ]
    started = time.perf_counter()
    produced = synthesizer.generate_goldens_from_goldens(
        goldens,
        max_goldens_per_golden=math.ceil(options.count / len(seeds)),
        include_expected_output=True,
    )
    wall = time.perf_counter() - started
    samples = [
        {"input": golden.input, "expected_output": golden.expected_output} for golden in produced
    ]
    return samples, wall


def main() -> None:
    options = arguments()
    with open(options.seeds) as file:
        seeds = json.load(file)
    report = {
        "tool": TOOL,
        "asked": options.count,
        "delivered": 0,
        "unique": 0,
        "wall_seconds": None,
        "error": None,
    }
    # The tool's logs and progress bars go to stderr; stdout carries the one result line.
    result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    started = time.perf_counter()
    try:
        samples, wall = generate(options, seeds)
    except BaseException as error:  # noqa: BLE001  a peer that crashes is a finding, not a stop
        traceback.print_exc()
        report["error"] = f"{type(error).__name__}: {error}"[:500]
        report["wall_seconds"] = round(time.perf_counter() - started, 3)  # until the crash
        samples = []
    else:
        distinct = {json.dumps(sample, sort_keys=True) for sample in samples}
        report.update(delivered=len(samples), unique=len(distinct), wall_seconds=round(wall, 3))
    with open(options.out, "w") as out:
        out.writelines(json.dumps(sample, ensure_ascii=False) + "\n" for sample in samples)
    result_stream.write(json.dumps(report) + "\n")
    result_stream.flush()


if __name__ == "__main__":
    main()
