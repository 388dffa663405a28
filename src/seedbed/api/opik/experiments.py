"""Opik routes for experiments, experiment items and the compare view."""

from fastapi import APIRouter

router = APIRouter(tags=["Experiments"])
