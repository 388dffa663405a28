"""What the listing services take: one query value per resource, built the same way by
every caller. The API surfaces read their wire formats into these; the CLI and the web UI
build them directly::

    DatasetQuery(name="support").where("tags", "contains", "gold").sorted_by("created_at")
    ItemQuery().where("data.question", "contains", "refund")
    ExperimentQuery(dataset_id=dataset.id).sorted_by("feedback_scores.accuracy", descending=True)

``where`` and ``sorted_by`` check the field and the operator against what the resource
allows (:mod:`seedbed.domain.filters`) and return a new query.
"""

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

from seedbed.domain.datasets import DATASET_FIELDS
from seedbed.domain.experiments import (
    COMPARE_FIELDS,
    COMPARE_SORT_FIELDS,
    EXPERIMENT_FIELDS,
    EXPERIMENT_SORT_FIELDS,
)
from seedbed.domain.filters import FieldKind, Filter, Sort, make_filter, make_sort
from seedbed.domain.items import ITEM_FIELDS
from seedbed.domain.trace_search import SPAN_FIELDS, TRACE_FIELDS


@dataclass(frozen=True, kw_only=True)
class _Filterable:
    FILTER_FIELDS: ClassVar[Mapping[str, FieldKind]]
    SORT_FIELDS: ClassVar[Mapping[str, FieldKind]]

    filters: tuple[Filter, ...] = ()
    sort: Sort | None = None

    def where(
        self,
        field: str,
        operator: str,
        value: str | float | bool | None = None,
        key: str | None = None,
    ) -> Self:
        """This query with one more filter (all filters must match)."""
        added = make_filter(self.FILTER_FIELDS, field, operator, value, key)
        return dataclasses.replace(self, filters=(*self.filters, added))

    def sorted_by(self, field: str, descending: bool = False) -> Self:
        return dataclasses.replace(self, sort=make_sort(self.SORT_FIELDS, field, descending))


@dataclass(frozen=True, kw_only=True)
class DatasetQuery(_Filterable):
    """Datasets whose name contains ``name`` (ignoring case); with ``project_id``, of that
    project; with ``with_experiments_only``, those experiments ran on."""

    FILTER_FIELDS = DATASET_FIELDS
    SORT_FIELDS = DATASET_FIELDS

    name: str | None = None
    project_id: str | None = None
    with_experiments_only: bool = False


@dataclass(frozen=True, kw_only=True)
class ItemQuery(_Filterable):
    """A dataset's items, as of ``version`` (a version id, ``v3`` or a tag) or now."""

    FILTER_FIELDS = ITEM_FIELDS
    SORT_FIELDS = ITEM_FIELDS

    version: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExperimentQuery(_Filterable):
    """Experiments narrowed by any of the fields given (``None``: not narrowed)."""

    FILTER_FIELDS = EXPERIMENT_FIELDS
    SORT_FIELDS = EXPERIMENT_SORT_FIELDS

    dataset_id: str | None = None
    optimization_id: str | None = None
    types: tuple[str, ...] | None = None
    name: str | None = None  # contained in the name, ignoring case
    dataset_deleted: bool | None = None
    prompt_id: str | None = None
    project_id: str | None = None
    project_deleted: bool | None = None
    experiment_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class CompareViewQuery(_Filterable):
    """The compare view of a dataset: its items that ``experiment_ids`` ran, filtered and
    sorted on the items' fields and on their runs' (``output``, ``feedback_scores``, …),
    and searched for ``search``."""

    FILTER_FIELDS = COMPARE_FIELDS
    SORT_FIELDS = COMPARE_SORT_FIELDS

    experiment_ids: tuple[str, ...] | None = None  # required by the compare view itself
    search: str | None = None


@dataclass(frozen=True, kw_only=True)
class TraceQuery(_Filterable):
    """A project's traces (named by ``project_id`` or ``project_name``), those whose ids
    say they were made between ``from_time`` and ``to_time`` when given."""

    FILTER_FIELDS = TRACE_FIELDS
    SORT_FIELDS = TRACE_FIELDS

    project_name: str | None = None
    project_id: str | None = None
    from_time: dt.datetime | None = None
    to_time: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SpanQuery(_Filterable):
    """A project's spans, as :class:`TraceQuery`; with ``trace_id``, of that trace; with
    ``type``, of that type."""

    FILTER_FIELDS = SPAN_FIELDS
    SORT_FIELDS = SPAN_FIELDS

    project_name: str | None = None
    project_id: str | None = None
    from_time: dt.datetime | None = None
    to_time: dt.datetime | None = None
    trace_id: str | None = None
    type: str | None = None
