"""Prompts, their versions and experiments' links to them, in the JSON shapes Opik's
clients read. Absent values and empty lists are left out, as Opik does."""

from typing import Any

from seedbed.api.opik.presenters import audit, compact, timestamp
from seedbed.domain.prompts import Prompt, PromptVersion, PromptVersionLink, PromptView


def prompt(found: Prompt) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "name": found.name,
            "project_id": found.project_id,
            "description": found.description,
            "template_structure": found.template_structure,
            "tags": found.tags or None,
            **audit(found),
            "version_count": found.version_count,
        }
    )


def prompt_detail(view: PromptView) -> dict[str, Any]:
    return compact(
        {
            **prompt(view.prompt),
            "latest_version": version(view.latest_version) if view.latest_version else None,
        }
    )


def version(found: PromptVersion) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "prompt_id": found.prompt_id,
            "commit": found.commit,
            "version_number": found.version_number,
            "template": found.template,
            "metadata": found.metadata,
            "type": found.type,
            "version_type": found.version_type,
            "change_description": found.change_description,
            "tags": found.tags or None,
            "variables": found.variables or None,
            "template_structure": found.template_structure,
            "created_at": timestamp(found.created_at),
            "created_by": found.created_by,
        }
    )


def prompt_link(found: PromptVersionLink) -> dict[str, Any]:
    """An experiment's link to a prompt version (``PromptVersionLink_Public``)."""
    return compact(
        {
            "prompt_version_id": found.version_id,
            "commit": found.commit,
            "prompt_id": found.prompt_id,
            "prompt_name": found.prompt_name,
        }
    )
