"""Opik routes for traces, spans and their feedback scores."""

from fastapi import APIRouter

router = APIRouter(tags=["Traces"])
