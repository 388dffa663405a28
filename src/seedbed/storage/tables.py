"""The schema. Migrations under ``migrations/`` create exactly this (a test checks it).

Items are versioned without copying rows: an item row is visible in every version
``v`` with ``valid_from <= v`` and (``valid_to`` is null or ``v < valid_to``). Changing an
item closes its row and opens a new one; the live draft is the rows with a null
``valid_to``.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.String(36)


def _audit_columns() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_updated_by", sa.String(255), nullable=False),
    ]


projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("visibility", sa.String(16), nullable=False),
    *_audit_columns(),
    sa.UniqueConstraint("workspace", "name"),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("project_id", Id),
    sa.Column("items_count", sa.BigInteger(), nullable=False),
    sa.Column("latest_version_sequence", sa.Integer(), nullable=False),
    *_audit_columns(),
    sa.UniqueConstraint("workspace", "name"),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("version_hash", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(32), nullable=False),
    sa.Column("items_total", sa.BigInteger(), nullable=False),
    sa.Column("items_added", sa.Integer(), nullable=False),
    sa.Column("items_modified", sa.Integer(), nullable=False),
    sa.Column("items_deleted", sa.Integer(), nullable=False),
    sa.Column("change_description", sa.Text()),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("batch_group_id", Id),
    # Evaluation-suite settings of the version, carried forward to the next one.
    sa.Column("evaluators", Json),
    sa.Column("execution_policy", Json),
    *_audit_columns(),
    sa.UniqueConstraint("dataset_id", "sequence"),
    sa.Index(None, "dataset_id", "version_hash"),
    sa.Index(None, "dataset_id", "batch_group_id"),
)

dataset_version_tags = sa.Table(
    "dataset_version_tags",
    metadata,
    sa.Column("dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", sa.String(100), primary_key=True),
    sa.Column(
        "version_id", Id, sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)

dataset_items = sa.Table(
    "dataset_items",
    metadata,
    sa.Column(
        "row_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("item_id", Id, nullable=False),
    sa.Column("valid_from", sa.Integer(), nullable=False),
    sa.Column("valid_to", sa.Integer()),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("trace_id", Id),
    sa.Column("span_id", Id),
    sa.Column("data", Json, nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("evaluators", Json),
    sa.Column("execution_policy", Json),
    sa.Column("content_hash", sa.String(64), nullable=False),
    *_audit_columns(),
    # Live rows of a dataset, by id: upserts, the stream and the items page. Partial, so
    # it holds only the current draft however long the history grows.
    sa.Index(
        "ix_dataset_items_live",
        "dataset_id",
        "item_id",
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
        sqlite_where=sa.text("valid_to IS NULL"),
    ),
    # Live rows by id alone: reading, patching or deleting an item without its dataset.
    sa.Index(
        "ix_dataset_items_live_item_id",
        "item_id",
        postgresql_where=sa.text("valid_to IS NULL"),
        sqlite_where=sa.text("valid_to IS NULL"),
    ),
    # Rows of one item across versions, and version-pinned reads.
    sa.Index(None, "dataset_id", "item_id", "valid_from"),
)

dataset_columns = sa.Table(
    "dataset_columns",
    metadata,
    sa.Column("dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("type", sa.String(16), primary_key=True),
    # How many live items have this key with this type; a column goes when it reaches 0.
    sa.Column("item_count", sa.BigInteger(), nullable=False),
)

dataset_export_jobs = sa.Table(
    "dataset_export_jobs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("dataset_name", sa.String(512), nullable=False),
    # The export is the dataset as of this version; its file is written on download.
    sa.Column("version_sequence", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("viewed_at", sa.DateTime()),
    *_audit_columns(),
    sa.Index(None, "workspace", "created_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("revoked_at", sa.DateTime()),
)

api_key_workspaces = sa.Table(
    "api_key_workspaces",
    metadata,
    sa.Column("key_id", Id, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workspace", sa.String(255), primary_key=True),
)


# -- experiments: traces, spans and feedback scores --------------------------------------
#
# Clients send traces, spans, feedback scores and experiment items in background batches,
# in no fixed order: a score may arrive before its trace, a span before its trace, an
# experiment item before both. So these tables reference each other by id only (no
# foreign keys) and reads join them as they are.

traces = sa.Table(
    "traces",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("project_id", Id, nullable=False),
    sa.Column("name", sa.Text()),
    sa.Column("start_time", sa.DateTime()),
    sa.Column("end_time", sa.DateTime()),
    # end_time - start_time in milliseconds, kept with them so aggregates stay in SQL.
    sa.Column("duration_ms", sa.Float()),
    sa.Column("input", Json),
    sa.Column("output", Json),
    sa.Column("metadata", Json),
    sa.Column("tags", Json),
    sa.Column("error_info", Json),
    sa.Column("thread_id", sa.String(255)),
    sa.Column("source", sa.String(32)),
    # {field: when the write that set it was made}: see domain/traces.py.
    sa.Column("field_stamps", Json),
    *_audit_columns(),
    sa.Index(None, "workspace", "project_id", "id"),
)

spans = sa.Table(
    "spans",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("project_id", Id, nullable=False),
    sa.Column("trace_id", Id, nullable=False),
    sa.Column("parent_span_id", Id),
    sa.Column("name", sa.Text()),
    sa.Column("type", sa.String(16)),
    sa.Column("start_time", sa.DateTime()),
    sa.Column("end_time", sa.DateTime()),
    sa.Column("duration_ms", sa.Float()),
    sa.Column("input", Json),
    sa.Column("output", Json),
    sa.Column("metadata", Json),
    sa.Column("model", sa.String(255)),
    sa.Column("provider", sa.String(255)),
    sa.Column("tags", Json),
    sa.Column("usage", Json),  # {"prompt_tokens": 12, ...}
    sa.Column("total_estimated_cost", sa.Float()),
    sa.Column("error_info", Json),
    sa.Column("source", sa.String(32)),
    sa.Column("field_stamps", Json),
    *_audit_columns(),
    sa.Index(None, "trace_id"),
)

feedback_scores = sa.Table(
    "feedback_scores",
    metadata,
    sa.Column("entity_type", sa.String(8), primary_key=True),  # "trace" or "span"
    sa.Column("entity_id", Id, primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    # One score per author: a new score by the same author replaces the old one, and
    # aggregates average the authors' latest scores.
    sa.Column("author", sa.String(255), primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("project_id", Id),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("reason", sa.Text()),
    sa.Column("category_name", sa.String(255)),
    sa.Column("source", sa.String(32), nullable=False),
    *_audit_columns(),
    sa.Index(None, "entity_id", "name"),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    # No foreign key: an experiment outlives its dataset (Opik's dataset_deleted filter).
    sa.Column("dataset_id", Id, nullable=False),
    sa.Column("dataset_name", sa.String(512), nullable=False),
    # The dataset version the experiment ran on (0: the dataset had no version yet).
    sa.Column("dataset_version_sequence", sa.Integer(), nullable=False),
    sa.Column("project_id", Id),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("metadata", Json),
    sa.Column("tags", Json, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("evaluation_method", sa.String(32), nullable=False),
    sa.Column("optimization_id", Id),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("experiment_scores", Json),
    *_audit_columns(),
    sa.Index(None, "workspace", "dataset_id"),
    sa.Index(None, "workspace", "name"),
)

experiment_items = sa.Table(
    "experiment_items",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("experiment_id", Id, nullable=False),
    sa.Column("dataset_item_id", Id, nullable=False),
    sa.Column("trace_id", Id, nullable=False),
    sa.Column("project_id", Id),
    sa.Column("execution_policy", Json),
    *_audit_columns(),
    sa.Index(None, "experiment_id", "dataset_item_id"),
    sa.Index(None, "trace_id"),
)

# -- experiment aggregates, kept as data arrives -----------------------------------------------
#
# What each experiment's traces add up to, updated in the transaction of every write that
# changes them (domain/rollups.py, storage/repositories/experiment_rollups.py), so listing
# experiments reads one row each instead of every trace, span and score.

# Each (experiment, trace) an experiment item links, with what the trace adds.
experiment_traces = sa.Table(
    "experiment_traces",
    metadata,
    sa.Column("experiment_id", Id, primary_key=True),
    sa.Column("trace_id", Id, primary_key=True),
    sa.Column("duration_ms", sa.Float()),  # also in contribution; a column for percentiles
    sa.Column("contribution", Json, nullable=False),
    sa.Index(None, "trace_id"),
    sa.Index(None, "experiment_id", "duration_ms"),
)

experiment_rollups = sa.Table(
    "experiment_rollups",
    metadata,
    sa.Column("experiment_id", Id, primary_key=True),
    sa.Column("trace_count", sa.Integer(), nullable=False),
    sa.Column("dataset_item_count", sa.Integer(), nullable=False),
    sa.Column("duration_count", sa.Integer(), nullable=False),  # traces with a duration
    sa.Column("duration_p50", sa.Float()),
    sa.Column("duration_p90", sa.Float()),
    sa.Column("duration_p99", sa.Float()),
    sa.Column("cost_total", sa.Float(), nullable=False),
    sa.Column("cost_traces", sa.Integer(), nullable=False),  # traces with a cost
)

# Per experiment, kind ("score", "assertion", "usage") and name: the sum of the traces'
# values and how many traces have one.
experiment_rollup_sums = sa.Table(
    "experiment_rollup_sums",
    metadata,
    sa.Column("experiment_id", Id, primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("total", sa.Float(), nullable=False),
    sa.Column("traces", sa.Integer(), nullable=False),
)

# What the compare view filters, groups and sorts on, one row per experiment item (a
# *run*), kept by the same settle as the rollups (storage/repositories/experiment_runs.py):
# the run's dataset and pinned version, the item row visible there (null: none), its
# trace's duration and cost, and each feedback score (the average over its authors).
# Indexed so that a page of the compare view reads only the runs of its dataset, grouped
# by dataset item in index order, without joining traces, spans, scores or item rows.
experiment_runs = sa.Table(
    "experiment_runs",
    metadata,
    sa.Column("experiment_item_id", Id, primary_key=True),
    sa.Column("experiment_id", Id, nullable=False),
    sa.Column("dataset_id", Id, nullable=False),
    sa.Column("dataset_version_sequence", sa.Integer(), nullable=False),
    sa.Column("dataset_item_id", Id, nullable=False),
    # The dataset item id as two integers (domain/ids.py): what pages group and order by.
    sa.Column("item_high", sa.BigInteger(), nullable=False),
    sa.Column("item_low", sa.BigInteger(), nullable=False),
    sa.Column("trace_id", Id, nullable=False),
    sa.Column("item_row_id", sa.BigInteger()),
    sa.Column("duration_ms", sa.Float()),
    sa.Column("cost", sa.Float()),
    # A dataset's runs item by item: the compare view's grouping.
    sa.Index(
        "ix_experiment_runs_by_item",
        "dataset_id",
        "item_high",
        "item_low",
        "experiment_id",
        "item_row_id",
    ),
    sa.Index(None, "dataset_id", "dataset_item_id"),  # when item rows change
    sa.Index(None, "experiment_id", "dataset_item_id"),
    sa.Index(None, "trace_id"),
)

experiment_run_scores = sa.Table(
    "experiment_run_scores",
    metadata,
    sa.Column("experiment_item_id", Id, primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("dataset_id", Id, nullable=False),
    sa.Column("experiment_id", Id, nullable=False),
    sa.Column("dataset_item_id", Id, nullable=False),
    sa.Column("item_high", sa.BigInteger(), nullable=False),
    sa.Column("item_low", sa.BigInteger(), nullable=False),
    sa.Column("item_row_id", sa.BigInteger()),
    sa.Column("value", sa.Float(), nullable=False),
    # One score of a dataset's runs, item by item, with all a filter or a sort reads.
    sa.Index(
        "ix_experiment_run_scores_by_item",
        "dataset_id",
        "name",
        "item_high",
        "item_low",
        "experiment_id",
        "value",
        "item_row_id",
    ),
    # The same in the order of the score's values: the first items of a page sorted on it.
    sa.Index(
        "ix_experiment_run_scores_by_value",
        "dataset_id",
        "name",
        "value",
        "item_high",
        "item_low",
        "experiment_id",
        "item_row_id",
    ),
)

# -- the prompt library ----------------------------------------------------------------------
#
# A prompt's name is unique in its workspace. Its versions are immutable: a new template
# is a new version. Experiments link the versions they ran (experiment_prompt_versions)
# by id only, like the experiment tables above: a deleted prompt does not take the record
# of what ran with it, and rebuilding ``experiments`` (SQLite's way of altering a table)
# does not cascade into the links.

prompts = sa.Table(
    "prompts",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("project_id", Id),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("template_structure", sa.String(8), nullable=False),
    sa.Column("tags", Json, nullable=False),
    *_audit_columns(),
    sa.UniqueConstraint("workspace", "name"),
)

prompt_versions = sa.Table(
    "prompt_versions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("prompt_id", Id, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("commit", sa.String(8), nullable=False),
    # v1, v2, ... within the prompt; null for a mask, which has no place in the history.
    sa.Column("sequence", sa.Integer()),
    sa.Column("template", sa.Text(), nullable=False),
    sa.Column("metadata", Json),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("version_type", sa.String(16), nullable=False),
    sa.Column("change_description", sa.Text()),
    sa.Column("tags", Json, nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.UniqueConstraint("workspace", "commit"),
    sa.UniqueConstraint("prompt_id", "sequence"),
)

experiment_prompt_versions = sa.Table(
    "experiment_prompt_versions",
    metadata,
    sa.Column("experiment_id", Id, primary_key=True),
    sa.Column("prompt_version_id", Id, primary_key=True),
    # Kept with the link, so that ``?prompt_id=`` still finds the experiment once the
    # version is gone; null for links made before seedbed kept prompts.
    sa.Column("prompt_id", Id),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Index(None, "prompt_id"),
)

# The content-addressed LLM response cache: a request's SHA-256 → the reply. Shared by
# every workspace, as identical requests get identical (already paid) replies.
llm_responses = sa.Table(
    "llm_responses",
    metadata,
    sa.Column("request_key", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(255), nullable=False),
    sa.Column("model", sa.String(512), nullable=False),
    sa.Column("response", Json, nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)

# Generation jobs. A job is split into chunks that run independently (in the server
# process, or on workers); accepted samples are stored as they arrive, each unique
# within its job, so an interrupted chunk resumes from what it already has.
generation_jobs = sa.Table(
    "generation_jobs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("spec", Json, nullable=False),
    sa.Column("source", Json, nullable=False),
    sa.Column("target_dataset_id", Id),
    sa.Column("target_dataset_name", sa.String(512)),
    sa.Column("written_version", sa.String(32)),
    sa.Column("requested", sa.Integer(), nullable=False),
    sa.Column("accepted", sa.Integer(), nullable=False),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    sa.Column("detail", sa.Text()),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("started_at", sa.DateTime()),
    sa.Column("finished_at", sa.DateTime()),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    # The run's quality report, written when the job ends.
    sa.Column("report", Json),
    sa.Index(None, "workspace", "created_at"),
    sa.Index(None, "status"),
)

generation_job_chunks = sa.Table(
    "generation_job_chunks",
    metadata,
    sa.Column(
        "job_id", Id, sa.ForeignKey("generation_jobs.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("chunk_index", sa.Integer(), primary_key=True),
    sa.Column("target", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("owner", sa.String(255)),
    sa.Column("stats", Json, nullable=False),
    sa.Column("detail", sa.Text()),
    sa.Column("heartbeat_at", sa.DateTime()),
)

generation_job_items = sa.Table(
    "generation_job_items",
    metadata,
    sa.Column(
        "sequence",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "job_id", Id, sa.ForeignKey("generation_jobs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("chunk_index", sa.Integer(), nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Column("data_type", sa.String(64)),
    sa.Column("provenance", Json, nullable=False),
    sa.Column("text_digest", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    # What the judge measured of the sample (nearest-seed similarity, critic verdict).
    sa.Column("quality", Json),
    # A person's review: kept or rejected (with a reason), and the sample as edited.
    sa.Column("review_status", sa.String(16)),
    sa.Column("review_reason", sa.Text()),
    sa.Column("reviewed_data", Json),
    sa.UniqueConstraint("job_id", "text_digest"),
    sa.Index(None, "job_id", "chunk_index"),
)
