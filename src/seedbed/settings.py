"""Settings, from arguments or ``SEEDBED_*`` environment variables. Read once, passed
explicitly: nothing in seedbed reads the environment at import time."""

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 5174


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEEDBED_", extra="ignore", populate_by_name=True)

    home: Path = Field(default=Path("~/.seedbed"), description="Where local data lives")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; SQLite file under home by default"
    )
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # "auto": keys are required unless the server only listens on a loopback address.
    auth: Literal["auto", "required", "off"] = "auto"
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, description="Largest request body, after gzip"
    )

    # Generation. The default model is SEEDBED_DEFAULT_MODEL, else OpenAI's when an
    # OpenAI key is set, else the embedded local model.
    default_model: str = ""
    providers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Extra providers, as JSON: {name: {type, base_url, ...}}"
    )
    # How hard a generation retries a failing provider before giving up; the server's
    # synchronous endpoints should not hang for minutes on a dead provider.
    generation_max_retries: int = Field(default=4, ge=0)
    generation_breaker_cooldown_seconds: float = Field(default=1.0, gt=0)
    collinear_models: dict[str, str] = Field(
        default_factory=dict,
        description="Collinear model ids as seedbed models, as JSON: {model_id: provider/model}",
    )
    # Where generation jobs run: in the server process, or (PostgreSQL) on `seedbed worker`s.
    job_runner: Literal["in-process", "workers"] = "in-process"
    local_model_path: str = Field(
        default="", description="A GGUF file to use instead of the embedded model"
    )
    # None: a local call runs until its max_tokens, however busy the machine is.
    local_timeout_seconds: float | None = Field(
        default=None, gt=0, description="Longest local-model call, in seconds; unset: no limit"
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("SEEDBED_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SEEDBED_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    anthropic_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SEEDBED_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SEEDBED_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"),
    )

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        self.home = self.home.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'seedbed.db'}"
        return self

    @property
    def requires_api_key(self) -> bool:
        if self.auth != "auto":
            return self.auth == "required"
        return not _is_loopback(self.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
