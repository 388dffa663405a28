"""Request bodies of Opik's experiments API (``opik-openapi.yaml``). Unknown fields are
ignored, as the Opik server does, so newer clients keep working."""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from seedbed.api.opik.schemas import Body
from seedbed.api.opik.trace_schemas import FeedbackScoreWrite, JsonValue, SpanWrite, TraceWrite

ExperimentType = Literal["regular", "trial", "mini-batch", "mutation"]
ExperimentStatus = Literal["running", "completed", "cancelled"]
Tag = Annotated[str, Field(max_length=100)]


class ExperimentScore(Body):
    name: str = Field(min_length=1)
    value: float


class PromptVersionLink(Body):
    id: UUID


class ExperimentWrite(Body):
    id: UUID | None = None
    dataset_name: str = Field(min_length=1)
    project_id: UUID | None = None
    project_name: str | None = None
    name: str | None = Field(default=None, max_length=512)
    metadata: JsonValue | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    type: ExperimentType | None = None
    evaluation_method: Literal["dataset", "evaluation_suite"] | None = None
    optimization_id: UUID | None = None
    status: ExperimentStatus | None = None
    experiment_scores: list[ExperimentScore] | None = None
    prompt_version: PromptVersionLink | None = None
    prompt_versions: list[PromptVersionLink] | None = None
    dataset_version_id: UUID | None = None


class ExperimentUpdate(Body):
    name: str | None = Field(default=None, max_length=512)
    metadata: JsonValue | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    tags_to_add: list[Tag] | None = Field(default=None, max_length=50)
    tags_to_remove: list[Tag] | None = Field(default=None, max_length=50)
    type: ExperimentType | None = None
    status: ExperimentStatus | None = None
    experiment_scores: list[ExperimentScore] | None = None

    def to_changes(self) -> dict[str, Any]:
        """The fields sent, as the experiments service takes them (scores by name)."""
        changes = self.model_dump(mode="json", exclude_unset=True)
        if "experiment_scores" in changes:
            changes["experiment_scores"] = {
                score.name: score.value for score in self.experiment_scores or []
            }
        return changes


class ExperimentBatchUpdate(Body):
    ids: list[UUID] = Field(min_length=1, max_length=1000)
    update: ExperimentUpdate
    merge_tags: bool = False  # add ``update.tags`` to each experiment's instead of replacing


class IdList(Body):
    ids: list[UUID] = Field(min_length=1, max_length=1000)


class ExperimentStreamRequest(Body):
    name: str = Field(min_length=1)
    limit: int | None = Field(default=None, ge=1, le=2000)
    last_retrieved_id: UUID | None = None
    project_name: str | None = None


class ExecutionPolicy(Body):
    runs_per_item: int | None = Field(default=None, ge=1, le=100)
    pass_threshold: int | None = Field(default=None, ge=1, le=100)


class ExperimentItemWrite(Body):
    id: UUID | None = None
    experiment_id: UUID
    dataset_item_id: UUID
    trace_id: UUID
    project_name: str | None = None
    execution_policy: ExecutionPolicy | None = None


class ExperimentItemsBatch(Body):
    experiment_items: list[ExperimentItemWrite] = Field(min_length=1, max_length=1000)


class ExperimentItemStreamRequest(Body):
    experiment_name: str = Field(min_length=1)
    limit: int | None = Field(default=None, ge=1, le=2000)
    last_retrieved_id: UUID | None = None
    truncate: bool = True
    project_name: str | None = None


class BulkSpan(SpanWrite):
    """A span of an uploaded run: it belongs to the run's trace."""

    trace_id: UUID | None = None


class ExperimentItemBulkRecord(Body):
    dataset_item_id: UUID
    evaluate_task_result: JsonValue | None = None
    trace: TraceWrite | None = None
    spans: list[BulkSpan] | None = Field(default=None, max_length=100)
    feedback_scores: list[FeedbackScoreWrite] | None = Field(default=None, max_length=100)


class ExperimentItemsBulk(Body):
    experiment_name: str = Field(min_length=1)
    dataset_name: str = Field(min_length=1)
    experiment_id: UUID | None = None
    project_name: str | None = None
    items: list[ExperimentItemBulkRecord] = Field(min_length=1, max_length=1000)
