"""Request bodies of Opik's dataset API (``opik-openapi.yaml``). Unknown fields are
ignored, as the Opik server does, so newer clients keep working."""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from seedbed.domain import ids
from seedbed.domain.items import ItemDraft, storage_problem


def text_or_none(value: Any) -> str | None:
    """An optional id (or other value) as the text the services take."""
    return str(value) if value is not None else None


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


def storable(value: Any) -> Any:
    if (problem := storage_problem(value)) is not None:
        raise ValueError(problem)
    return value


# Free-form JSON, checked while validating: too deep a value would otherwise fail later,
# when the route reads it back out of the model.
JsonObject = Annotated[dict[str, Any], AfterValidator(storable)]


class DatasetWrite(Body):
    name: str = Field(min_length=1, max_length=512)
    id: UUID | None = None
    description: str | None = None
    project_id: UUID | None = None
    project_name: str | None = None
    type: Literal["dataset", "evaluation_suite"] | None = None
    visibility: Literal["private", "public"] | None = None
    tags: list[str] | None = None


class DatasetUpdate(Body):
    name: str = Field(min_length=1, max_length=512)
    description: str | None = None
    visibility: Literal["private", "public"] | None = None
    tags: list[str] | None = None


class DatasetIdentifier(Body):
    dataset_name: str = Field(min_length=1)
    project_name: str | None = None


class BatchDelete(Body):
    ids: list[UUID] = Field(min_length=1, max_length=1000)


class DatasetItemWrite(Body):
    id: UUID | None = None
    trace_id: UUID | None = None
    span_id: UUID | None = None
    source: Literal["manual", "trace", "span", "sdk"] = "sdk"
    data: JsonObject
    tags: list[str] | None = None
    description: str | None = None
    evaluators: list[JsonObject] | None = None
    execution_policy: JsonObject | None = None

    def as_draft(self) -> ItemDraft:
        """The item as the services take it; without an id, it gets a new one."""
        return ItemDraft(
            id=text_or_none(self.id) or ids.new_id(),
            data=self.data,
            source=self.source,
            trace_id=text_or_none(self.trace_id),
            span_id=text_or_none(self.span_id),
            tags=self.tags,
            description=self.description,
            evaluators=self.evaluators,
            execution_policy=self.execution_policy,
        )


class DatasetItemBatchWrite(Body):
    dataset_name: str | None = None
    dataset_id: UUID | None = None
    project_name: str | None = None
    project_id: UUID | None = None
    items: list[DatasetItemWrite] = Field(min_length=1, max_length=1000)
    batch_group_id: UUID | None = None
    copy_from_dataset_id: UUID | None = None
    copy_from_version_id: UUID | None = None


class DatasetItemPatch(Body):
    trace_id: UUID | None = None
    span_id: UUID | None = None
    source: Literal["manual", "trace", "span", "sdk"] | None = None
    data: JsonObject | None = None
    tags: list[str] | None = None
    description: str | None = None
    evaluators: list[JsonObject] | None = None
    execution_policy: JsonObject | None = None


class DatasetItemStreamRequest(Body):
    dataset_name: str = Field(min_length=1)
    last_retrieved_id: UUID | None = None
    steam_limit: int | None = Field(default=None, ge=1, le=2000)
    dataset_version: str | None = None
    project_name: str | None = None
    filters: str | None = None


class DatasetItemFilter(Body):
    field: str
    operator: str
    key: str | None = None
    value: str | None = None


class DatasetItemsDelete(Body):
    item_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=1000)
    dataset_id: UUID | None = None
    filters: list[DatasetItemFilter] | None = None
    batch_group_id: UUID | None = None


class DatasetItemUpdate(Body):
    input: str | None = None
    expected_output: str | None = None
    metadata: JsonObject | None = None
    data: JsonObject | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    tags_to_add: list[str] | None = Field(default=None, max_length=50)
    tags_to_remove: list[str] | None = Field(default=None, max_length=50)
    evaluators: list[JsonObject] | None = None
    execution_policy: JsonObject | None = None
    clear_execution_policy: bool = False


class DatasetItemBatchUpdate(Body):
    ids: list[UUID] | None = Field(default=None, min_length=1, max_length=1000)
    filters: list[DatasetItemFilter] | None = None
    dataset_id: UUID | None = None
    update: DatasetItemUpdate
    merge_tags: bool = False


class DatasetItemEdit(DatasetItemPatch):
    id: UUID


class DatasetItemChanges(Body):
    base_version: UUID | None = None
    added_items: list[DatasetItemWrite] = Field(default_factory=list)
    edited_items: list[DatasetItemEdit] = Field(default_factory=list)
    deleted_ids: list[UUID] = Field(default_factory=list)
    change_description: str | None = None
    evaluators: list[JsonObject] | None = None
    execution_policy: JsonObject | None = None
    clear_execution_policy: bool = False
    tags: list[str] | None = Field(default=None, max_length=100)
    metadata: dict[str, str] | None = None
    copy_from_dataset_id: UUID | None = None
    copy_from_version_id: UUID | None = None


class DatasetVersionTag(Body):
    tag: str = Field(max_length=100)


class DatasetVersionRestore(Body):
    version_ref: str = Field(min_length=1)


class DatasetVersionRetrieve(Body):
    version_name: str = Field(min_length=1, pattern=r"^v\d+$")


class DatasetVersionUpdate(Body):
    change_description: str | None = None
    tags_to_add: list[str] | None = Field(default=None, max_length=100)


class ProjectWrite(Body):
    name: str = Field(min_length=1)
    description: str | None = Field(default=None, max_length=255)
    visibility: Literal["private", "public"] | None = None


class ProjectRetrieve(Body):
    name: str = Field(min_length=1)
