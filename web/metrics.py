"""Prometheus metrics (text exposition at GET /metrics).

- craneflow_http_request_duration_seconds{method, route, status}: histogram per route template
  (`/cases/<int:case_id>`, never the raw path) and status class (2xx, 4xx …).
- Computed at each scrape from the database (one grouped query each) and Redis:
  craneflow_queue_depth{queue} (Redis LLEN of the Celery queues, when REDIS_URL is set),
  craneflow_due_jobs{status} (pending, queued, failed), craneflow_outbox_messages{status}
  (pending, running, dead), craneflow_open_tasks{city} (open inbox tasks per city code),
  craneflow_timer_lateness_seconds{quantile} (0.5, 0.95 and 1 = max, of the timer jobs fired in the
  last LATENESS_WINDOW; a gauge over a sliding window, not a cumulative histogram: the jobs fire in
  the Celery workers, which serve no metrics) and craneflow_timer_jobs_fired_recent (how many).

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty directory, before start):
each worker writes its request histogram there and a scrape of any worker adds them all up.
"""
import os
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from engine.services import operations_overview

CELERY_QUEUES = ("craneflow", "craneflow.sweep")
LATENESS_WINDOW = timedelta(minutes=15)

REQUEST_LATENCY = Histogram(
    "craneflow_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
    ("method", "route", "status"), registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(method, route or "<unmatched>", f"{status // 100}xx").observe(seconds)


class OperationsCollector:
    """Figures read from the database and Redis when scraped (nothing is kept between scrapes)."""

    def __init__(self, engine, redis_client=None):
        self.engine, self.redis = engine, redis_client

    def collect(self):
        if self.redis is not None:
            depth = GaugeMetricFamily("craneflow_queue_depth", "Tasks waiting in a Celery queue (Redis LLEN)",
                                      labels=("queue",))
            try:
                for queue in CELERY_QUEUES:
                    depth.add_metric((queue,), self.redis.llen(queue))
            except RedisError:  # the broker is away: /readyz says so; the database figures still count
                pass
            else:
                yield depth
        with Session(self.engine) as session:
            jobs = operations_overview.job_counts(session)
            messages = operations_overview.message_counts(session)
            cities = operations_overview.open_tasks_by_city(session)
            late = operations_overview.lateness(session, window=LATENESS_WINDOW)
        yield _by_label("craneflow_due_jobs", "Due jobs (timers, reminders, checks) by status", "status", jobs)
        yield _by_label("craneflow_outbox_messages", "Outbox messages by status", "status", messages)
        yield _by_label("craneflow_open_tasks", "Open inbox tasks by city code", "city", cities)
        quantiles = GaugeMetricFamily(
            "craneflow_timer_lateness_seconds",
            f"Lateness of the timer jobs fired in the last {int(LATENESS_WINDOW.total_seconds() // 60)} minutes",
            labels=("quantile",))
        for q, ms in (("0.5", late.p50_ms), ("0.95", late.p95_ms), ("1", late.max_ms)):
            if ms is not None:
                quantiles.add_metric((q,), ms / 1000)
        yield quantiles
        yield GaugeMetricFamily("craneflow_timer_jobs_fired_recent",
                                "Timer jobs fired in the lateness window", value=late.count)


def _by_label(name: str, doc: str, label: str, counts: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=(label,))
    for value, n in sorted(counts.items()):
        family.add_metric((value,), n)
    return family


def exposition(engine, redis_client=None) -> tuple[bytes, str]:
    """The text exposition of every metric, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(OperationsCollector(engine, redis_client))
    return generate_latest(registry), CONTENT_TYPE_LATEST
