"""distilabel's side of ``bench/generation_peers.py``; run by distilabel's own virtualenv.

    bench/.venvs/distilabel/bin/python bench/peers/distilabel_run.py \\
        --base-url http://127.0.0.1:PORT/v1 --seeds seeds.json --count 1000 \\
        --concurrency 16 --out samples.jsonl

The closest distilabel idiom for "1,000 new samples like these seeds": a pipeline of
``LoadDataFromDicts`` (the seeds, each repeated until rows × ``num_generations`` reaches
the count) into a ``TextGeneration`` whose template shows one seed as JSON and asks for one
new sample with the same keys, and ``OpenAILLM`` pointed at the stub. Choices:

- ``num_generations=5``, sent as OpenAI's ``n``: five samples per paid call, as seedbed's
  benchmark asks five samples per call. 10 seeds × 20 rows × 5 = 1,000 generations.
- ``input_batch_size`` = the concurrency (16): distilabel's async LLMs send a batch's rows
  at once and wait for the whole batch, so that is its concurrency limit.
- Retries are the OpenAI SDK's (distilabel's default ``max_retries=6``); distilabel itself
  neither parses nor deduplicates a generation. Every row it outputs counts as delivered,
  a ``None`` generation (a batch that failed) does not.
- ``use_cache=False`` and a throwaway cache directory, so no run replays another's rows.

Every generation goes to ``--out`` as ``{"text": ...}`` for the caller to judge; the one
JSON line on stdout is ``{"tool", "asked", "delivered", "unique", "wall_seconds",
"error"}``, where ``unique`` counts exactly distinct texts (distilabel's own view: none
removed) and ``wall_seconds`` times ``pipeline.run`` alone (its worker processes included).
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback

TOOL = "distilabel"
NUM_GENERATIONS = 5
TEMPLATE = """Here is a customer-support sample as a JSON object:
{{ example }}

Write 1 new sample like it: a JSON object with the same keys, about a different customer \
problem. Reply with the JSON only."""


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
        "--out", required=True, help="where to write the generations, one JSON line each"
    )
    parser.add_argument("--model", default="gpt-4o-mini")
    return parser.parse_args()


def seed_rows(seeds: list[dict], count: int) -> list[dict]:
    """The seeds, repeated in turn until the rows times ``num_generations`` reach ``count``."""
    rows = math.ceil(count / NUM_GENERATIONS)
    return [
        {"example": json.dumps(seeds[index % len(seeds)], ensure_ascii=False)}
        for index in range(rows)
    ]


def generate(options: argparse.Namespace, seeds: list[dict]) -> tuple[list[str], float]:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration

    with Pipeline(
        name="seedbed-bench", cache_dir=tempfile.mkdtemp(prefix="distilabel-")
    ) as pipeline:
        load = LoadDataFromDicts(
            data=seed_rows(seeds, options.count), batch_size=options.concurrency
        )
        write = TextGeneration(
            llm=OpenAILLM(model=options.model, base_url=options.base_url, api_key="bench"),
            template=TEMPLATE,
            columns=["example"],
            num_generations=NUM_GENERATIONS,
            group_generations=False,
            input_batch_size=options.concurrency,
        )
        load >> write
    started = time.perf_counter()
    distiset = pipeline.run(
        use_cache=False,
        parameters={
            write.name: {"llm": {"generation_kwargs": {"max_new_tokens": 256, "temperature": 1.0}}}
        },
    )
    wall = time.perf_counter() - started
    rows = distiset["default"]["train"]
    texts = [text for text in rows["generation"] if text is not None]
    return texts[: options.count], wall


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
        texts, wall = generate(options, seeds)
    except BaseException as error:  # noqa: BLE001  a peer that crashes is a finding, not a stop
        traceback.print_exc()
        report["error"] = f"{type(error).__name__}: {error}"[:500]
        report["wall_seconds"] = round(time.perf_counter() - started, 3)  # until the crash
        texts = []
    else:
        report.update(delivered=len(texts), unique=len(set(texts)), wall_seconds=round(wall, 3))
    with open(options.out, "w") as out:
        out.writelines(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in texts)
    result_stream.write(json.dumps(report) + "\n")
    result_stream.flush()


if __name__ == "__main__":
    main()
