"""Opik routes for projects, as far as datasets need them (the client resolves its
project by name before listing datasets)."""

from fastapi import APIRouter, Request, Response

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.presenters import project as present
from seedbed.api.opik.schemas import ProjectRetrieve, ProjectWrite
from seedbed.services import projects

router = APIRouter(tags=["Projects"])


@router.get("/projects")
def find_projects(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    name: str | None = None,
) -> dict:
    found, total = projects.find_projects(connection, caller, page, size, name)
    return {
        "content": [present(p) for p in found],
        "page": page,
        "size": len(found),
        "total": total,
    }


@router.post("/projects", status_code=201, response_class=Response)
def create_project(
    body: ProjectWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    created = projects.create_project(
        connection, caller, body.name, body.description, body.visibility
    )
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{created.id}"})


@router.post("/projects/retrieve")
def retrieve_project(body: ProjectRetrieve, connection: Writing, caller: CallerDep) -> dict:
    return present(projects.retrieve_project(connection, caller, body.name))


@router.get("/projects/{project_id}")
def get_project(project_id: str, connection: Reading, caller: CallerDep) -> dict:
    return present(projects.get_project(connection, caller, project_id))
