"""What a careful reader would check in generated data, measured on four seed shapes.

    python bench/quality.py                  # the fake LLM (seconds)
    python bench/quality.py --local          # also the embedded model (tens of minutes)
    python bench/quality.py --local-only --count 10 --critic

For each seed set (bench/quality_seeds.py) it asks for ``--count`` samples and measures
the delivered set on its own, with the definitions below rather than the engine's
verdicts: delivered ÷ asked; invalid (not the seeds' JSON schema); exact and near
duplicates among the samples (word-set Jaccard ≥ 0.75); templated fields (a long text
field repeating another sample's or a seed's); placeholders; seed copies (near a seed);
the share of closed-set values inside the seeds' set; the commonest frame (opening or
closing words of a long text field shared by most samples, beside the seeds' share of
it); distinct-2 of the samples beside the seeds', and again over only as many words of
the samples as the seeds have in all (distinct-n falls as a text grows, since common word
pairs recur: ten long answers score lower than eight short ones written just as freshly);
the critic's pass rate when one ran; seconds per sample. It prints one table per model
and the samples themselves, to read.

The fake LLM answers with random words: its rows show that the judge keeps what it
promises under injected flaws (out-of-set labels, templates, placeholders, seed copies),
not that its text is realistic.
"""

import argparse
import json
import tempfile
import time

from jsonschema import Draft202012Validator
from quality_seeds import SEED_SETS

import seedbed
from seedbed.generation.dedup import NearDuplicateFilter, normalize, sample_text
from seedbed.generation.frames import shared_frames
from seedbed.generation.placeholders import placeholders_in
from seedbed.generation.report import distinct_n
from seedbed.generation.schema import infer_item_schema
from seedbed.generation.shape import infer_shape, values_at
from seedbed.providers.registry import LOCAL_DEFAULT_MODEL, ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer

FLAWS = StubBehaviour(
    seed=1,
    out_of_set_rate=0.15,
    template_rate=0.15,
    placeholder_rate=0.15,
    seed_copy_rate=0.1,
    duplicate_rate=0.1,
)
COLUMNS = (
    "set",
    "delivered/asked",
    "invalid",
    "exact dup",
    "near dup",
    "templated",
    "placeholders",
    "seed copies",
    "closed-set share",
    "commonest frame (seeds)",
    "distinct-2 (seeds)",
    "distinct-2 at the seeds' length",
    "critic pass",
    "s/sample",
)


def measure(seeds: list[dict], result, seconds: float) -> dict:
    items = result.items
    validator = Draft202012Validator(infer_item_schema(seeds))
    shape = infer_shape(seeds)
    exact, near = _repeats([sample_text(item) for item in items])
    seed_copies = NearDuplicateFilter()
    for seed in seeds:
        seed_copies.add(sample_text(seed))
    templated = 0
    for path in shape.long_text_fields:
        field_seen = NearDuplicateFilter()
        for seed in seeds:
            field_seen.add(_field(seed, path))
        for item in items:
            text = _field(item, path)
            if text and field_seen.add_if_new(text) is not None:
                templated += 1
    inside = total = 0
    for path, allowed in shape.closed_sets.items():
        for item in items:
            for value in values_at(item, path):
                total += 1
                inside += value in allowed
    critic = [s.quality["critic"]["passed"] for s in result.samples if "critic" in s.quality]
    asked_critic = critic + [False] * result.stats.rejected.get("critic", 0)
    return {
        "delivered/asked": f"{len(items)}/{result.stats.requested}",
        "invalid": sum(1 for item in items if list(validator.iter_errors(item))),
        "exact dup": exact,
        "near dup": near,
        "templated": templated,
        "placeholders": sum(1 for item in items if placeholders_in(json.dumps(item))),
        "seed copies": sum(
            1 for item in items if seed_copies.verdict(sample_text(item)) is not None
        ),
        "closed-set share": f"{inside / total:.0%}" if total else "n/a",
        "commonest frame (seeds)": _commonest_frame(shape, seeds, items),
        "distinct-2 (seeds)": (
            f"{distinct_n([shape.free_text(item) for item in items], 2)}"
            f" ({distinct_n([shape.free_text(seed) for seed in seeds], 2)})"
        ),
        "distinct-2 at the seeds' length": _distinct_2_at_length(
            [shape.free_text(item) for item in items], [shape.free_text(seed) for seed in seeds]
        ),
        "critic pass": f"{sum(asked_critic) / len(asked_critic):.0%}" if asked_critic else "off",
        "s/sample": f"{seconds / max(1, len(items)):.1f}",
    }


def _distinct_2_at_length(texts: list[str], seed_texts: list[str]) -> float | None:
    """Distinct-2 of the texts, in order, cut where their words reach the seeds' total."""
    budget = sum(len(normalize(text).split()) for text in seed_texts)
    cut = []
    for text in texts:
        words = normalize(text).split()[:budget]
        if not words:
            break
        cut.append(" ".join(words))
        budget -= len(words)
    return distinct_n(cut, 2)


def _commonest_frame(shape, seeds: list[dict], items: list[dict]) -> str:
    """The opening or closing words shared by most samples, with their share among the
    samples and among the seeds."""
    found = [
        frame
        for frames in shared_frames(shape.long_text_fields, seeds, items).values()
        for frame in frames.values()
    ]
    if not found:
        return "n/a"
    top = max(found, key=lambda frame: frame["share"])
    return f'{top["share"]:.0%} ({top["seeds_share"] or 0:.0%}) "{top["words"]}"'


def _repeats(texts: list[str]) -> tuple[int, int]:
    seen = NearDuplicateFilter()
    exact = near = 0
    for text in texts:
        verdict = seen.add_if_new(text)
        exact += verdict == "duplicate"
        near += verdict == "near_duplicate"
    return exact, near


def _field(item: dict, path: str) -> str:
    return " ".join(value for value in values_at(item, path) if isinstance(value, str))


def run_sets(
    registry: ProviderRegistry,
    model: str,
    count: int,
    critic: bool,
    only: list[str],
    topics: list[bool],
) -> None:
    rows = []
    for name, seeds in SEED_SETS.items():
        if only and name not in only:
            continue
        for plan_topics in topics:
            label = name if topics == [True] else f"{name}, topics {'on' if plan_topics else 'off'}"
            started = time.perf_counter()
            result = seedbed.expand(
                seeds,
                count,
                model=model,
                registry=registry,
                random_seed=7,
                critic_model=model if critic else None,
                plan_topics=plan_topics,
            )
            seconds = time.perf_counter() - started
            rows.append({"set": label, **measure(seeds, result, seconds)})
            print(f"\n## {model}: {label} ({result.stop_reason}) {dict(result.stats.rejected)}")
            for sample in result.samples:
                about = sample.provenance.topic
                print("  ", json.dumps(sample.data, ensure_ascii=False))
                if about:
                    print("      about:", about)
            print(flush=True)
    print(f"\n### {model}, {count} samples per set\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(str(row[column]) for column in COLUMNS) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=None, help="samples per set")
    parser.add_argument("--local", action="store_true", help="also the embedded model")
    parser.add_argument("--local-only", action="store_true", help="only the embedded model")
    parser.add_argument("--critic", action="store_true", help="run the critic (same model)")
    parser.add_argument(
        "--set", action="append", default=[], choices=list(SEED_SETS), help="only this seed set"
    )
    parser.add_argument(
        "--topics",
        choices=["on", "off", "both"],
        default="on",
        help="plan topics first (the default), not, or both in one run to compare",
    )
    options = parser.parse_args()
    topics = {"on": [True], "off": [False], "both": [False, True]}[options.topics]
    if not options.local_only:
        with StubLLMServer(FLAWS) as stub:
            settings = Settings(
                home=tempfile.mkdtemp(), openai_base_url=stub.base_url, openai_api_key="bench"
            )
            registry = ProviderRegistry(settings, load_plugins=False)
            run_sets(
                registry,
                "openai/gpt-4o-mini",
                options.count or 100,
                options.critic,
                options.set,
                topics,
            )
    if options.local or options.local_only:
        registry = ProviderRegistry(Settings(home=tempfile.mkdtemp()), load_plugins=False)
        run_sets(
            registry,
            LOCAL_DEFAULT_MODEL,
            options.count or 10,
            options.critic,
            options.set,
            topics,
        )


if __name__ == "__main__":
    main()
