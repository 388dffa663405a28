"""``seedbed expand``: grow a dataset (or a file of seeds) with new samples, with a live
account of what was accepted, rejected and paid for."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    Output,
    QuietOption,
    WorkspaceOption,
    errors,
    fail,
    money,
    open_database,
    require_dataset_named,
    settings_with,
)

if TYPE_CHECKING:
    from seedbed.generation.result import GenerationResult, GenerationStats
    from seedbed.generation.spec import SeedItem
    from seedbed.services.context import Caller
    from seedbed.storage.database import Database

SEED_FILE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")


def expand(
    source: Annotated[
        str,
        typer.Argument(
            help="A dataset name, or a file of seed rows (.jsonl, .json, .csv, .parquet).",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    count: Annotated[
        int, typer.Option("--count", "-n", help="How many new samples to generate.")
    ] = 10,
    model: Annotated[
        str | None,
        typer.Option(
            help="provider/model, e.g. openai/gpt-4o-mini (default: SEEDBED_DEFAULT_MODEL, "
            "else the embedded local model).",
            show_default=False,
        ),
    ] = None,
    instructions: Annotated[str | None, typer.Option(help="What to vary, what to aim for.")] = None,
    preserve: Annotated[
        list[str] | None,
        typer.Option("--preserve", help="A field whose pattern must be kept (repeatable)."),
    ] = None,
    data_type: Annotated[
        list[str] | None,
        typer.Option(
            "--data-type",
            help="Kind of case, e.g. 'Prompt Injection' (repeatable; the count is split).",
        ),
    ] = None,
    custom_prompt: Annotated[
        str | None, typer.Option(help="Replaces the task description of the prompt.")
    ] = None,
    temperature: Annotated[
        float, typer.Option(help="Sampling temperature (spread a little across calls).")
    ] = 0.9,
    max_cost: Annotated[
        float | None, typer.Option(help="Stop when this much (USD) is spent.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Stop when this many tokens are used.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Calls in flight at most.")] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Make the run reproducible: the same seed asks the same questions, and"
            " replies already paid for are replayed from the cache.",
            show_default=False,
        ),
    ] = None,
    allow_new_values: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-new-values",
            help="A field that may take labels or numbers the seeds do not have (repeatable).",
        ),
    ] = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="A diversity axis and its values, e.g. persona=novice,expert (repeatable).",
        ),
    ] = None,
    evolution: Annotated[
        list[str] | None,
        typer.Option(
            "--evolution",
            help="An Evol-Instruct strategy: add_constraints, deepen, concretize, multi_step,"
            " comparative, hypothetical (repeatable).",
        ),
    ] = None,
    topics: Annotated[
        bool,
        typer.Option(
            "--topics/--no-topics",
            help="First ask the model for distinct situations (per label) for the samples to"
            " be about: one more call, more varied samples that fit their labels.",
        ),
    ] = True,
    critic_model: Annotated[
        str | None,
        typer.Option(
            help="A model that scores every candidate; low scores are refused and topped up.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        bool,
        typer.Option(
            "--report", help="Print the quality report of the samples (with --json: in the JSON)."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the samples to this JSONL file.")
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Add the samples to the source dataset as a new version.")
    ] = False,
    into: Annotated[
        str | None,
        typer.Option(help="Add the samples to this dataset (created if missing) as a new version."),
    ] = None,
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance",
            help="In JSONL output, write {data, provenance} per line instead of the bare sample.",
        ),
    ] = False,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Queue a durable job instead of generating here; a running `seedbed serve` "
            "(or `seedbed worker`) runs it.",
        ),
    ] = False,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Generate new samples in the shape of SOURCE's rows.

    COUNT samples, valid, and unique among themselves, the seeds and the dataset. With no --output/--save/--into the samples are
    printed to standard output as JSONL (with --json: one JSON object with the samples
    and the account)."""
    from seedbed.cli.logs import show_logs
    from seedbed.cli.quality_report import render_report
    from seedbed.domain.errors import SeedbedError
    from seedbed.generation.factory import spec_from_settings
    from seedbed.generation.spec import Budget
    from seedbed.providers.registry import ProviderRegistry
    from seedbed.services.context import Caller

    out = Output(quiet, as_json)
    if not out.quiet:
        # "assembling the embedded model's weights ..." and the like, as they happen.
        show_logs("info", timestamps=False)
    settings = settings_with(database_url=database_url)
    caller = Caller(workspace)
    try:
        database = open_database(database_url)
        seeds, known, dataset_id = _seeds(database, caller, source)
        if save and dataset_id is None:
            fail("--save adds to the source dataset; for a file source, name one with --into", 2)
        spec = spec_from_settings(
            settings,
            count,
            model=model or "",
            temperature=temperature,
            instructions=instructions,
            preserve_fields=tuple(preserve or ()),
            custom_prompt=custom_prompt,
            data_types=tuple(data_type or ()),
            concurrency=concurrency,
            budget=Budget(max_tokens=max_tokens, max_cost=max_cost),
            random_seed=seed,
            allow_new_values=tuple(allow_new_values or ()),
            vary=_axes(vary or ()),
            evolutions=tuple(evolution or ()),
            plan_topics=topics,
            critic_model=critic_model,
        )
        spec.check()
        registry = ProviderRegistry(settings)
        # A model that does not exist or a provider that is not set up fails here, before
        # any progress is drawn.
        registry.resolve(spec.model or None)
        if detach:
            _queue_job(database, caller, registry, spec, seeds, dataset_id, save, into, out)
            return
        result = _run_with_progress(database, registry, seeds, known, spec, out)
        saved = _save(database, caller, into or source, result, out) if save or into else None
        _write(result, output, provenance, out, print_samples=not (save or into))
    except SeedbedError as error:
        fail(error)
        return
    summary = _summary(result, output, saved)
    if report:
        summary["report"] = result.report
        out.note(render_report(result.report or {}))
    out.result(summary, None)
    if not result.complete:
        errors.print(f"stopped early: {result.detail}", markup=False, highlight=False)
        raise typer.Exit(code=1)


def _axes(given: "list[str] | tuple[str, ...]") -> dict[str, tuple[str, ...]]:
    """``persona=novice,expert`` as {"persona": ("novice", "expert")}."""
    from seedbed.domain.errors import InvalidInput

    axes: dict[str, tuple[str, ...]] = {}
    for text in given:
        name, _, values = text.partition("=")
        choices = tuple(value.strip() for value in values.split(",") if value.strip())
        if not name.strip() or not choices:
            raise InvalidInput(f"--vary takes AXIS=VALUE,VALUE..., got {text!r}")
        axes[name.strip()] = choices
    return axes


def _seeds(
    database: "Database", caller: "Caller", source: str
) -> tuple[list["SeedItem"], list[dict], str | None]:
    from seedbed.domain.errors import InvalidInput
    from seedbed.generation.spec import SeedItem
    from seedbed.services import expansions
    from seedbed.services.item_files import read_item_rows

    path = Path(source)
    looks_like_a_file = path.suffix.lower() in SEED_FILE_SUFFIXES or "/" in source
    if looks_like_a_file and not path.exists():
        raise InvalidInput(f"no such file: {source}")
    if path.is_file():
        seeds = [SeedItem(row["data"], row.get("id")) for row in read_item_rows(path)]
        return seeds, [seed.data for seed in seeds], None
    with database.reading() as connection:
        dataset = require_dataset_named(connection, caller, source)
        found = expansions.read_source(connection, caller, dataset.id)
    return found.seeds, found.known, dataset.id


def _queue_job(database, caller, registry, spec, seeds, dataset_id, save, into, out) -> None:
    from seedbed.services import jobs

    with database.writing() as connection:
        job = jobs.create_job(
            connection,
            caller,
            registry,
            spec,
            source_dataset_id=dataset_id,
            seeds=None if dataset_id else [dict(seed.data) for seed in seeds],
            save_to_source=save,
            target_dataset_name=into,
        )
    out.result({"job_id": job.id, "status": job.status}, job.id)
    out.note(f"queued job {job.id}; follow it with: seedbed jobs watch {job.id}")


def _save(database, caller, dataset_name: str, result: "GenerationResult", out) -> dict:
    """Into the named dataset (created if missing), once the samples exist: a failed run
    leaves no empty dataset behind."""
    from seedbed.services import datasets, expansions

    with database.writing() as connection:
        dataset = datasets.get_or_create_by_name(connection, caller, dataset_name)
        version = expansions.save_samples(connection, caller, dataset.id, result.samples)
    if version is not None:
        out.note(
            f"saved {len(result.samples)} samples to {dataset_name!r} as version {version.name}"
        )
    return {"dataset": dataset_name, "version": version.name if version else None}


def _run_with_progress(database, registry, seeds, known, spec, out) -> "GenerationResult":
    """The bar appears once the run has something to show, so a run that fails at once
    (a key missing, the model not there) prints its error alone."""
    import asyncio

    from seedbed.services import expansions

    if out.quiet:
        return asyncio.run(expansions.generate(database, registry, seeds, spec, known))
    bar = _LazyProgressBar(spec.count)
    try:
        result = asyncio.run(expansions.generate(database, registry, seeds, spec, known, bar.show))
        bar.show(result.stats)
    finally:
        bar.stop()
    return result


class _LazyProgressBar:
    def __init__(self, total: int) -> None:
        self.total = total
        self.progress = None
        self.task = None

    def show(self, stats: "GenerationStats") -> None:
        if self.progress is None:
            if not (stats.replies or stats.accepted or stats.stage):
                return
            self._start()
        self.progress.update(self.task, completed=stats.accepted, account=_account(stats))

    def _start(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[account]}"),
            TimeElapsedColumn(),
            console=errors.get(),
        )
        self.progress.start()
        self.task = self.progress.add_task("generate", total=self.total, account="")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _account(stats: "GenerationStats") -> str:
    rejected = ", ".join(
        f"{reason.replace('_', ' ')} {count}"
        for reason, count in sorted(stats.rejected.items())
        if count
    )
    parts = [f"rejected: {rejected or 'none'}", f"{stats.usage.total_tokens:,} tokens"]
    if cost := money(stats.cost, free=stats.unpriced or stats.cost == 0):
        parts.append(cost)
    if stats.stage and stats.tokens_in_flight:
        parts.append(f"{stats.stage.replace('_', ' ')}: {stats.tokens_in_flight:,} tokens so far")
    elif stats.stage and not stats.accepted:
        parts.append(stats.stage.replace("_", " "))
    return " · ".join(parts)


def _write(result, output: Path | None, with_provenance: bool, out, print_samples: bool) -> None:
    lines = [
        json.dumps(
            {"data": sample.data, "provenance": sample.provenance.as_dict()}
            if with_provenance
            else sample.data,
            ensure_ascii=False,
        )
        for sample in result.samples
    ]
    text = "".join(line + "\n" for line in lines)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        out.note(f"wrote {len(lines)} samples to {output}")
    elif print_samples and lines and not out.as_json:
        sys.stdout.write(text)


def _summary(result, output: Path | None, saved: dict | None) -> dict:
    stats = result.stats
    summary = {
        "complete": result.complete,
        "detail": result.detail,
        "accepted": stats.accepted,
        "rejected": dict(stats.rejected),
        "tokens": stats.usage.total_tokens,
        "cost": None if stats.unpriced else stats.cost,
        "output": str(output) if output else None,
        "saved": saved,
    }
    if output is None and saved is None:
        summary["samples"] = [sample.data for sample in result.samples]
    return summary
