"""Request bodies of Opik's prompts API (``opik-openapi.yaml``). Unknown fields are
ignored, as the Opik server does, so newer clients keep working."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from seedbed.api.opik.schemas import Body, storable
from seedbed.api.opik.trace_schemas import JsonValue, ProjectName, Tags
from seedbed.domain.prompts import NewVersion

TemplateStructure = Literal["text", "chat"]
TemplateType = Literal["mustache", "jinja2", "python"]
Text = Annotated[str, AfterValidator(storable)]
PromptName = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(storable)]
Description = Annotated[str, Field(max_length=255), AfterValidator(storable)]
Commit = Annotated[str, Field(pattern=r"^[a-zA-Z0-9]{8}$")]


class PromptWrite(Body):
    """A new prompt; with a ``template`` it gets its first version too."""

    id: UUID | None = None
    name: PromptName
    project_id: UUID | None = None
    project_name: ProjectName | None = None
    description: Description | None = None
    template: Text | None = None
    metadata: JsonValue | None = None
    change_description: Text | None = None
    type: TemplateType | None = None
    template_structure: TemplateStructure | None = None
    tags: Tags | None = Field(default=None, max_length=50)

    def first_version(self) -> NewVersion | None:
        if self.template is None:
            return None
        return NewVersion(
            template=self.template,
            metadata=self.metadata,
            type=self.type,
            change_description=self.change_description,
        )


class PromptVersionWrite(Body):
    id: UUID | None = None
    commit: Commit | None = None
    template: Annotated[Text, Field(min_length=1)]
    metadata: JsonValue | None = None
    type: TemplateType | None = None
    version_type: Literal["prompt_version", "mask"] | None = None
    change_description: Text | None = None
    tags: Tags | None = Field(default=None, max_length=50)

    def new_version(self) -> NewVersion:
        return NewVersion(
            template=self.template,
            metadata=self.metadata,
            type=self.type,
            version_type=self.version_type,
            change_description=self.change_description,
            tags=list(self.tags or []),
            id=str(self.id) if self.id else None,
            commit=self.commit,
        )


class CreatePromptVersion(Body):
    name: PromptName
    version: PromptVersionWrite
    template_structure: TemplateStructure | None = None
    project_id: UUID | None = None
    project_name: ProjectName | None = None


class PromptUpdate(Body):
    name: PromptName
    description: Description | None = None
    tags: Tags | None = Field(default=None, max_length=50)


class PromptVersionRetrieve(Body):
    name: PromptName
    commit: Text | None = None
    environment: Annotated[str, Field(max_length=150, pattern=r"^[A-Za-z0-9_-]*$")] | None = None
    version_number: Annotated[str, Field(max_length=10)] | None = None
    project_name: ProjectName | None = None


class PromptVersionTags(Body):
    tags: Tags | None = Field(default=None, max_length=50)


class PromptVersionBatchUpdate(Body):
    ids: list[UUID] = Field(min_length=1, max_length=1000)
    update: PromptVersionTags
    merge_tags: bool | None = False


class PromptVersionIds(Body):
    ids: list[UUID] = Field(min_length=1, max_length=1000)
