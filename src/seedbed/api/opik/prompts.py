"""Opik routes for the prompt library: prompts, their versions, and finding either by
name, commit or number (what the client's ``create_prompt``, ``get_prompt``,
``create_chat_prompt``, ``search_prompts`` and ``get_prompt_history`` call)."""

from fastapi import APIRouter, Request, Response

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import prompt_presenters as presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.prompt_schemas import (
    CreatePromptVersion,
    PromptUpdate,
    PromptVersionBatchUpdate,
    PromptVersionIds,
    PromptVersionRetrieve,
    PromptWrite,
)
from seedbed.api.opik.queries import parse_filters, parse_sorting
from seedbed.api.opik.schemas import BatchDelete, text_or_none
from seedbed.domain.prompts import (
    PROMPT_FIELDS,
    PROMPT_SORT_FIELDS,
    PROMPT_SORTABLE,
    VERSION_FIELDS,
    VERSION_SORT_FIELDS,
    VERSION_SORTABLE,
)
from seedbed.services import prompts

router = APIRouter(tags=["Prompts"])


@router.get("/prompts")
def find_prompts(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    name: str | None = None,
    project_id: str | None = None,
    sorting: str | None = None,
    filters: str | None = None,
) -> dict:
    found, total = prompts.find_prompts(
        connection,
        caller,
        page,
        size,
        name=name,
        project_id=project_id,
        filters=parse_filters(filters, PROMPT_FIELDS),
        sort=parse_sorting(sorting, PROMPT_SORT_FIELDS),
    )
    return {
        "content": [presenters.prompt(found_prompt) for found_prompt in found],
        "page": page,
        "size": len(found),
        "total": total,
        "sortableBy": list(PROMPT_SORTABLE),
    }


@router.post("/prompts", status_code=201, response_class=Response)
def create_prompt(
    body: PromptWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    created = prompts.create_prompt(
        connection,
        caller,
        body.name,
        prompt_id=text_or_none(body.id),
        description=body.description,
        template_structure=body.template_structure,
        tags=body.tags,
        project_id=text_or_none(body.project_id),
        project_name=body.project_name,
        first_version=body.first_version(),
    )
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{created.id}"})


@router.post("/prompts/versions")
def create_prompt_version(
    body: CreatePromptVersion, connection: Writing, caller: CallerDep
) -> dict:
    created = prompts.create_version(
        connection,
        caller,
        body.name,
        body.version.new_version(),
        template_structure=body.template_structure,
        project_id=text_or_none(body.project_id),
        project_name=body.project_name,
    )
    return presenters.version(created)


@router.patch("/prompts/versions", status_code=204)
def update_prompt_versions(
    body: PromptVersionBatchUpdate, connection: Writing, caller: CallerDep
) -> None:
    prompts.update_version_tags(
        connection,
        caller,
        [str(version_id) for version_id in body.ids],
        body.update.tags,
        merge=bool(body.merge_tags),
    )


@router.post("/prompts/versions/retrieve")
def retrieve_prompt_version(
    body: PromptVersionRetrieve, connection: Reading, caller: CallerDep
) -> dict:
    return presenters.version(
        prompts.retrieve_version(
            connection,
            caller,
            body.name,
            commit=body.commit,
            version_number=body.version_number,
            environment=body.environment,
            project_name=body.project_name,
        )
    )


@router.post("/prompts/versions/retrieve-by-ids")
def retrieve_prompt_versions_by_ids(
    body: PromptVersionIds, connection: Reading, caller: CallerDep
) -> list[dict]:
    found = prompts.versions_by_ids(
        connection, caller, [str(version_id) for version_id in body.ids]
    )
    return [presenters.version(version) for version in found]


@router.get("/prompts/versions/{version_id}")
def get_prompt_version(version_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.version(prompts.get_version(connection, caller, version_id))


@router.post("/prompts/delete", status_code=204)
def delete_prompts(body: BatchDelete, connection: Writing, caller: CallerDep) -> None:
    prompts.delete_prompts(connection, caller, [str(prompt_id) for prompt_id in body.ids])


@router.get("/prompts/{prompt_id}")
def get_prompt(prompt_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.prompt_detail(prompts.get_prompt(connection, caller, prompt_id))


@router.put("/prompts/{prompt_id}", status_code=204)
def update_prompt(
    prompt_id: str, body: PromptUpdate, connection: Writing, caller: CallerDep
) -> None:
    prompts.update_prompt(connection, caller, prompt_id, body.name, body.description, body.tags)


@router.delete("/prompts/{prompt_id}", status_code=204)
def delete_prompt(prompt_id: str, connection: Writing, caller: CallerDep) -> None:
    prompts.delete_prompt(connection, caller, prompt_id)


@router.get("/prompts/{prompt_id}/versions")
def find_prompt_versions(
    prompt_id: str,
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    search: str | None = None,
    sorting: str | None = None,
    filters: str | None = None,
) -> dict:
    found, total = prompts.list_versions(
        connection,
        caller,
        prompt_id,
        page,
        size,
        search=search,
        filters=parse_filters(filters, VERSION_FIELDS),
        sort=parse_sorting(sorting, VERSION_SORT_FIELDS),
    )
    return {
        "content": [presenters.version(version) for version in found],
        "page": page,
        "size": len(found),
        "total": total,
        "sortableBy": list(VERSION_SORTABLE),
    }


@router.get("/prompts/{prompt_id}/versions/by-number/{version_number}")
def get_prompt_version_by_number(
    prompt_id: str, version_number: str, connection: Reading, caller: CallerDep
) -> dict:
    return presenters.version(
        prompts.version_by_number(connection, caller, prompt_id, version_number)
    )
