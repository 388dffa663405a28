"""What a person sees before expanding a dataset: its fields and how often each is
present (the common ones pre-selected to keep, as Opik does), the models they can
choose, and what the run is expected to cost."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain.errors import InvalidInput
from seedbed.generation.estimate import GenerationEstimate, estimate_generation
from seedbed.generation.pricing import KNOWN_PRICES
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.registry import LOCAL_DEFAULT_MODEL, ProviderRegistry
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.items import list_items
from seedbed.storage.repositories.field_presence import FieldPresenceRepository

# A field present in at least this share of the items is pre-selected to be kept
# consistent (Opik's expansion dialog uses the same threshold).
COMMON_FIELD_SHARE = 0.8
# Items read to estimate a prompt's length: the seeds a run shows come from these.
ESTIMATE_SEED_ITEMS = 50


@dataclass(frozen=True, slots=True)
class FieldPresence:
    name: str
    items: int
    share: float  # of the dataset's items

    @property
    def common(self) -> bool:
        return self.share >= COMMON_FIELD_SHARE


def field_presence(connection: Connection, caller: Caller, dataset_id: str) -> list[FieldPresence]:
    dataset = require_dataset(connection, caller, dataset_id)
    total = max(1, dataset.items_count)
    return [
        FieldPresence(name, count, count / total)
        for name, count in FieldPresenceRepository(connection).presence(dataset.id).items()
    ]


def model_choices(registry: ProviderRegistry) -> list[str]:
    """The default model first, then the priced models of providers that have a key,
    the models of providers configured in settings, and the embedded local model."""
    settings = registry.settings
    keyed = {"openai": settings.openai_api_key, "anthropic": settings.anthropic_api_key}
    choices = [registry.default_model()]
    choices += [name for name in KNOWN_PRICES if keyed.get(name.split("/", 1)[0])]
    for provider, options in settings.providers.items():
        if options.get("model"):
            choices.append(f"{provider}/{options['model']}")
    choices.append(LOCAL_DEFAULT_MODEL)
    return list(dict.fromkeys(choices))


def estimate_expansion(
    connection: Connection,
    caller: Caller,
    registry: ProviderRegistry,
    dataset_id: str,
    spec: GenerationSpec,
) -> GenerationEstimate:
    """The pre-flight estimate of expanding the dataset with ``spec``; an unknown model
    or a bad spec fails here, as it would when the job starts."""
    resolved = registry.resolve(spec.model or None)
    items = list_items(connection, caller, dataset_id, 1, ESTIMATE_SEED_ITEMS).content
    seeds = [item.data for item in items if isinstance(item.data, dict) and item.data]
    if not seeds:
        raise InvalidInput("the dataset has no items to use as examples: add some first")
    return estimate_generation(
        spec,
        seeds,
        qualified_model=resolved.qualified,
        concurrency=resolved.provider.max_concurrency,
    )
