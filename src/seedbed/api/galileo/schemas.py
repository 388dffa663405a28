"""Request bodies of Galileo's API (``galileo-openapi.yaml``), only the fields seedbed
acts on. Unknown fields are ignored, as Galileo's server does (its client sends some
the document does not list, e.g. ``case_sensitive`` on a name filter)."""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from seedbed.api.galileo.content import DatasetFilters, RowEdit
from seedbed.api.galileo.extension import ExtensionRequest, SourceRows
from seedbed.domain import queries
from seedbed.domain.items import storage_problem
from seedbed.domain.limits import (
    LARGEST_32_BIT,
    LARGEST_MAX_TOKENS,
    MAX_INSTRUCTIONS_CHARS,
    MAX_PROMPT_CHARS,
    within_example_size,
)
from seedbed.generation.strategies import DATA_TYPE_GUIDANCE, known_data_type
from seedbed.services.expansions import MAX_SEEDS


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())


def _storable(value: Any) -> Any:
    if (problem := storage_problem(value)) is not None:
        raise ValueError(problem)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _known_data_type(value: str) -> str:
    if not known_data_type(value):
        raise ValueError(
            f"unknown data type {value!r}; expected one of: {', '.join(DATA_TYPE_GUIDANCE)}"
        )
    return value


Text = Annotated[str, AfterValidator(_storable)]
Values = Annotated[dict[str, Any], AfterValidator(_storable)]
DataType = Annotated[str, AfterValidator(_known_data_type)]
# Galileo's examples are user inputs (strings); seedbed also takes seed objects.
Example = (
    Annotated[
        str,
        AfterValidator(_not_blank),
        AfterValidator(_storable),
        AfterValidator(within_example_size),
    ]
    | Annotated[
        dict[str, Any],
        Field(min_length=1),
        AfterValidator(_storable),
        AfterValidator(within_example_size),
    ]
)


class ApiKeyLogin(Body):
    api_key: str


class PromptSettings(Body):
    """Galileo's ``PromptRunSettings``; seedbed uses the model and its sampling settings."""

    model_alias: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=LARGEST_MAX_TOKENS)


class SourceDataset(Body):
    dataset_id: UUID
    dataset_version_index: int | None = Field(default=None, ge=0, le=LARGEST_32_BIT)
    row_ids: list[UUID] | None = None


class ExtendRequest(Body):
    prompt_settings: PromptSettings = PromptSettings()
    prompt: Annotated[Text, Field(max_length=MAX_PROMPT_CHARS)] | None = None
    instructions: Annotated[Text, Field(max_length=MAX_INSTRUCTIONS_CHARS)] | None = None
    examples: list[Example] = Field(default_factory=list, max_length=MAX_SEEDS)
    source_dataset: SourceDataset | None = None
    data_types: list[DataType] | None = None
    count: int = Field(default=10, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_kind_of_example(self) -> "ExtendRequest":
        if len({isinstance(example, str) for example in self.examples}) > 1:
            raise ValueError("examples must be all strings or all objects, not a mixture")
        return self

    def to_service(self) -> ExtensionRequest:
        source = self.source_dataset
        return ExtensionRequest(
            count=self.count,
            model_alias=self.prompt_settings.model_alias,
            temperature=self.prompt_settings.temperature,
            top_p=self.prompt_settings.top_p,
            max_tokens=self.prompt_settings.max_tokens,
            prompt=self.prompt,
            instructions=self.instructions,
            examples=tuple(self.examples),
            source=SourceRows(
                str(source.dataset_id),
                source.dataset_version_index,
                tuple(str(row_id) for row_id in source.row_ids) if source.row_ids else None,
            )
            if source
            else None,
            data_types=tuple(dict.fromkeys(self.data_types or ())),
        )


# -- content edits -------------------------------------------------------------------------


class AppendRow(Body):
    edit_type: Literal["append_row"]
    values: Values
    row_id: UUID | None = None


class UpdateRow(Body):
    edit_type: Literal["update_row"]
    row_id: UUID
    values: Values


class DeleteRow(Body):
    edit_type: Literal["delete_row"]
    row_id: UUID


# Galileo's other edits (prepend, filter, copy records, remove or rename a column) are
# refused by the discriminator with the tags seedbed does take.
Edit = Annotated[AppendRow | UpdateRow | DeleteRow, Field(discriminator="edit_type")]


class ContentEdits(Body):
    edits: list[Edit] = Field(min_length=1)

    def to_service(self) -> list[RowEdit]:
        return [
            RowEdit(
                edit.edit_type,
                str(edit.row_id) if edit.row_id else None,
                getattr(edit, "values", None),
            )
            for edit in self.edits
        ]


# -- dataset queries -----------------------------------------------------------------------

_OPERATORS = {"eq": "=", "ne": "!=", "contains": "contains"}
_SORT_FIELDS = {
    "name": "name",
    "created_at": "created_at",
    "updated_at": "last_updated_at",
    "num_rows": "dataset_items_count",
}


class NameFilter(Body):
    name: Literal["name"]
    operator: Literal["eq", "ne", "contains"]
    value: str


class IdFilter(Body):
    name: Literal["id"]
    operator: Literal["eq", "ne"] = "eq"
    value: UUID


class DraftFilter(Body):
    name: Literal["draft"]
    operator: Literal["eq", "ne"] = "eq"
    value: bool


DatasetFilter = Annotated[NameFilter | IdFilter | DraftFilter, Field(discriminator="name")]


class DatasetSort(Body):
    name: Literal["name", "created_at", "updated_at", "num_rows"]
    ascending: bool = True


class DatasetQuery(Body):
    filters: list[DatasetFilter] = []
    sort: DatasetSort | None = None

    def to_service(self) -> DatasetFilters:
        query, matches_nothing = queries.DatasetQuery(), False
        for given in self.filters:
            if isinstance(given, DraftFilter):
                # Nothing in seedbed is a draft.
                matches_nothing |= given.value == (given.operator == "eq")
            else:
                query = query.where(given.name, _OPERATORS[given.operator], str(given.value))
        sort = self.sort or DatasetSort(name="created_at", ascending=False)
        query = query.sorted_by(_SORT_FIELDS[sort.name], descending=not sort.ascending)
        return DatasetFilters(query, matches_nothing)
