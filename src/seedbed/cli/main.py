"""Entry point of the ``seedbed`` command."""

from seedbed.cli import datasets, experiments, jobs, keys
from seedbed.cli.common import SeedbedTyper
from seedbed.cli.doctor import doctor
from seedbed.cli.expand import expand
from seedbed.cli.serve import serve
from seedbed.cli.worker import worker

app = SeedbedTyper(
    name="seedbed",
    help="Grow LLM-evaluation datasets from a handful of seeds, keep them versioned, "
    "and measure your app against them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve)
app.command("expand")(expand)
app.command("doctor")(doctor)
app.command("worker")(worker)
app.add_typer(keys.app, name="keys")
app.add_typer(datasets.app, name="datasets")
app.add_typer(experiments.app, name="experiments")
app.add_typer(jobs.app, name="jobs")
