"""``seedbed doctor``: is this installation ready, and if not, what to do about it.

Each check says what it found and, for a problem, the one thing to do next. Nothing is
changed: the database is not migrated, the weights are not assembled, and a provider is
asked for a single token only.
"""

import asyncio
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from seedbed.providers.base import Message
from seedbed.settings import Settings

OK = "ok"
PROBLEM = "problem"
SKIPPED = "skipped"
PROVIDER_TIMEOUT_SECONDS = 20.0
# A cheap model to ask for one token, for providers whose default model is not in use.
_TRIAL_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def run_checks(settings: Settings, models: tuple[str, ...] = ()) -> list[Check]:
    return [
        check_database(settings),
        check_embedded_model(settings),
        *check_providers(settings, models),
        check_workers(settings),
    ]


def check_database(settings: Settings) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from seedbed.storage import migrate
    from seedbed.storage.database import Database

    url = settings.database_url
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            newest = ScriptDirectory.from_config(
                migrate.alembic_config(database, connection)
            ).get_current_head()
    except Exception as error:  # any driver's refusal is the answer to this check
        return Check(
            "database",
            PROBLEM,
            f"cannot reach {_without_password(url)}: {_first_line(error)}",
            "start the database, or fix --database-url / SEEDBED_DATABASE_URL",
        )
    finally:
        database.dispose()
    shown = _without_password(url)
    if current == newest:
        return Check("database", OK, f"{shown} reachable, schema at the newest revision {newest}")
    return Check(
        "database",
        PROBLEM,
        f"{shown} reachable, schema at {current or 'nothing yet'}, newest is {newest}",
        "any seedbed command that opens it migrates it: run `seedbed serve` (or "
        "`seedbed datasets list`) once",
    )


def check_embedded_model(settings: Settings) -> Check:
    from seedbed.providers.local_weights import (
        EMBEDDED_MODEL_FILENAME,
        EMBEDDED_MODEL_SHA256,
        EMBEDDED_MODEL_SIZE,
        INSTALL_HINT,
        is_verified,
        locate_chunks,
    )

    name = "embedded model"
    if importlib.util.find_spec("llama_cpp") is None:
        return Check(name, PROBLEM, "llama-cpp-python is not installed", INSTALL_HINT)
    if settings.local_model_path:
        path = Path(settings.local_model_path).expanduser()
        if path.is_file():
            return Check(name, OK, f"your own GGUF file {path}")
        return Check(
            name, PROBLEM, f"no GGUF file at {path}", "fix SEEDBED_LOCAL_MODEL_PATH, or unset it"
        )
    assembled = settings.home / "models" / EMBEDDED_MODEL_FILENAME
    if is_verified(assembled, EMBEDDED_MODEL_SIZE, EMBEDDED_MODEL_SHA256):
        return Check(name, OK, f"weights assembled and verified at {assembled}")
    try:
        chunks = locate_chunks()
    except Exception as error:  # ProviderNotConfigured, naming the missing parts
        return Check(name, PROBLEM, str(error), INSTALL_HINT)
    return Check(
        name,
        OK,
        f"weights installed as {len(chunks)} parts; assembled and verified into "
        f"{assembled.parent} on first use (about a minute, once)",
    )


def check_providers(settings: Settings, models: tuple[str, ...] = ()) -> list[Check]:
    """A one-token call to each configured provider (and each model asked for)."""
    from seedbed.providers.registry import ProviderRegistry

    registry = ProviderRegistry(settings)
    trials = list(dict.fromkeys([*models, *_configured_models(settings, registry)]))
    if not trials:
        return [
            Check(
                "providers",
                SKIPPED,
                "no hosted provider configured; generation uses the embedded model",
            )
        ]
    return asyncio.run(_try_models(registry, trials))


def _configured_models(settings: Settings, registry) -> list[str]:
    default = settings.default_model
    configured = []
    if settings.openai_api_key or settings.openai_base_url:
        configured.append("openai")
    if settings.anthropic_api_key:
        configured.append("anthropic")
    configured += list(settings.providers)
    models = []
    for provider in configured:
        if default and registry.split(default)[0] == provider:
            models.append(default)
        elif model := settings.providers.get(provider, {}).get("model") or _TRIAL_MODELS.get(
            provider
        ):
            models.append(f"{provider}/{model}")
    return models


async def _try_models(registry, models: list[str]) -> list[Check]:
    try:
        return [await _try_model(registry, model) for model in models]
    finally:
        await registry.aclose()


async def _try_model(registry, model: str) -> Check:
    from seedbed.providers.base import CompletionRequest

    name = f"provider {model}"
    try:
        resolved = registry.resolve(model)
        request = CompletionRequest(
            model=resolved.model,
            messages=(Message("user", "Reply with the word ok."),),
            max_tokens=1,
            timeout_seconds=PROVIDER_TIMEOUT_SECONDS,
        )
        await asyncio.wait_for(resolved.provider.complete(request), PROVIDER_TIMEOUT_SECONDS)
    except TimeoutError:
        return Check(
            name,
            PROBLEM,
            f"no reply within {PROVIDER_TIMEOUT_SECONDS:g} s",
            "check the provider's base URL and that it is up",
        )
    except Exception as error:  # each provider's own errors: the message is the finding
        return Check(name, PROBLEM, _first_line(error), _provider_fix(model))
    return Check(name, OK, "answered a one-token call")


def _provider_fix(model: str) -> str:
    provider = model.split("/", 1)[0]
    if provider in ("openai", "anthropic"):
        return f"check {provider.upper()}_API_KEY (and {provider.upper()}_BASE_URL if set)"
    return f"check the {provider!r} entry of SEEDBED_PROVIDERS (base_url, api_key_env, model)"


def check_workers(settings: Settings) -> Check:
    name = "job runner"
    if settings.job_runner != "workers":
        return Check(name, OK, "generation jobs run inside `seedbed serve`")
    if not settings.database_url.startswith("postgresql"):
        return Check(
            name,
            PROBLEM,
            "SEEDBED_JOB_RUNNER=workers needs PostgreSQL; the database is not",
            "set SEEDBED_DATABASE_URL to a PostgreSQL URL, or unset SEEDBED_JOB_RUNNER",
        )
    if not _has_table(settings.database_url, "procrastinate_jobs"):
        return Check(
            name,
            PROBLEM,
            "the job queue's tables are not in the database yet",
            "start `seedbed serve` once (it applies them), then `seedbed worker` on each machine",
        )
    return Check(name, OK, "PostgreSQL job queue ready; run `seedbed worker` on each machine")


def _has_table(database_url: str, table: str) -> bool:
    import sqlalchemy as sa

    from seedbed.storage.database import Database

    database = Database(database_url)
    try:
        return sa.inspect(database.engine).has_table(table)
    finally:
        database.dispose()


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: shown as given
        return url
