"""What ``/metrics`` reports beyond the requests themselves: jobs by status (from the
database, so jobs run by workers count too) and this process's generation account."""

from sqlalchemy.engine import Connection

from seedbed.generation.meter import ProviderTotals, generation_meter
from seedbed.storage.repositories.jobs import JobRepository


def jobs_by_status(connection: Connection) -> dict[str, int]:
    return JobRepository(connection).count_by_status()


def generation_by_provider() -> dict[str, ProviderTotals]:
    return generation_meter.totals()
