"""``seedbed expand``: grow a dataset (or a JSONL/JSON/CSV file of seeds) with new
samples, with a live account of what was accepted, rejected and paid for."""

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from seedbed.cli.common import (
    DatabaseUrlOption,
    WorkspaceOption,
    errors,
    fail,
    open_database,
    settings_with,
)
from seedbed.domain import imports
from seedbed.domain.errors import InvalidInput, SeedbedError
from seedbed.generation.result import GenerationResult, GenerationStats
from seedbed.generation.spec import Budget, GenerationSpec, SeedItem
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import datasets, expansions, jobs
from seedbed.services.context import Caller
from seedbed.storage.database import Database


def expand(
    source: Annotated[
        str, typer.Argument(help="A dataset name, or a .jsonl/.json/.csv file of seed rows.")
    ],
    count: Annotated[
        int, typer.Option("--count", "-n", help="How many new samples to generate.")
    ] = 10,
    model: Annotated[
        str | None,
        typer.Option(
            help="provider/model, e.g. openai/gpt-4o-mini [default: SEEDBED_DEFAULT_MODEL, else the embedded local model]"
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
            help="In JSONL output, write {data, provenance} per line instead of the bare sample."
        ),
    ] = False,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Queue a durable job instead of generating here; a running `seedbed serve` (or `seedbed worker`) runs it.",
        ),
    ] = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Generate COUNT new samples in the shape of SOURCE's rows: valid, and unique among
    themselves, the seeds and the dataset. With no --output/--save/--into the samples are
    printed to stdout as JSONL."""
    settings = settings_with(database_url=database_url)
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        seeds, known, dataset_id = _seeds(database, caller, source)
        if save and dataset_id is None:
            raise_usage(
                "--save adds to the source dataset; for a file source, name one with --into"
            )
        spec = GenerationSpec(
            count=count,
            model=model or "",
            temperature=temperature,
            instructions=instructions,
            preserve_fields=tuple(preserve or ()),
            custom_prompt=custom_prompt,
            data_types=tuple(data_type or ()),
            concurrency=concurrency,
            budget=Budget(max_tokens=max_tokens, max_cost=max_cost),
            max_retries=settings.generation_max_retries,
            breaker_cooldown_seconds=settings.generation_breaker_cooldown_seconds,
        )
        spec.check()
        registry = ProviderRegistry(settings)
        if detach:
            _queue_job(database, caller, registry, spec, seeds, dataset_id, save, into)
            return
        result = _run_with_progress(database, registry, seeds, known, spec)
        if output is not None or not (save or into):
            _write(result, output, provenance)
        if save or into:
            _save(database, caller, into or source, result)
    except SeedbedError as error:
        fail(error)
        return
    _report(result)


def _seeds(
    database: Database, caller: Caller, source: str
) -> tuple[list[SeedItem], list[dict], str | None]:
    path = Path(source)
    looks_like_a_file = (
        path.suffix.lower() in (".jsonl", ".ndjson", ".json", ".csv") or "/" in source
    )
    if looks_like_a_file and not path.is_file():
        raise InvalidInput(f"no such file: {source}")
    if path.is_file():
        rows = imports.read_rows(
            path.read_text(encoding="utf-8-sig"), imports.detect_format(path.name)
        )
        seeds = [SeedItem(row["data"], row.get("id")) for row in rows]
        return seeds, [seed.data for seed in seeds], None
    with database.reading() as connection:
        dataset = datasets.require_dataset_by_name(connection, caller, source)
        found = expansions.read_source(connection, caller, dataset.id)
    return found.seeds, found.known, dataset.id


def _queue_job(database, caller, registry, spec, seeds, dataset_id, save, into) -> None:
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
    print(job.id)
    errors.print(f"queued job {job.id}; follow it with: seedbed jobs watch {job.id}")


def _save(database: Database, caller: Caller, dataset_name: str, result: GenerationResult) -> None:
    """Into the named dataset (created if missing), once the samples exist: a failed run
    leaves no empty dataset behind."""
    with database.writing() as connection:
        dataset = datasets.get_or_create_by_name(connection, caller, dataset_name)
        version = expansions.save_samples(connection, caller, dataset.id, result.samples)
    if version is not None:
        errors.print(
            f"saved {len(result.samples)} samples to {dataset_name!r} as version {version.name}"
        )


def raise_usage(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


def _run_with_progress(database, registry, seeds, known, spec) -> GenerationResult:
    columns = (
        TextColumn("[bold]generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[account]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=False) as progress:
        task = progress.add_task("generate", total=spec.count, account="")

        def show(stats: GenerationStats) -> None:
            progress.update(task, completed=stats.accepted, account=_account(stats))

        result = asyncio.run(expansions.generate(database, registry, seeds, spec, known, show))
        show(result.stats)
    return result


def _account(stats: GenerationStats) -> str:
    rejected = ", ".join(
        f"{reason.replace('_', ' ')} {count}"
        for reason, count in sorted(stats.rejected.items())
        if count
    )
    cost = "" if stats.unpriced else f" · ${stats.cost:.4f}"
    return f"rejected: {rejected or 'none'} · {stats.usage.total_tokens:,} tokens{cost}"


def _write(result: GenerationResult, output: Path | None, with_provenance: bool) -> None:
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
        errors.print(f"wrote {len(lines)} samples to {output}")
    elif lines:
        sys.stdout.write(text)


def _report(result: GenerationResult) -> None:
    if not result.complete:
        errors.print(f"[yellow]stopped early:[/yellow] {result.detail}")
        raise typer.Exit(code=1)
