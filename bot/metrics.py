"""Prometheus metrics, one registry per running Leeway (so tests can run several), and the
server that offers them on a port of their own.

With several worker processes, prometheus_client's multiprocess mode adds them up: each worker
writes its figures to files in one directory (`PROMETHEUS_MULTIPROC_DIR`, see
`shared_between_processes`), and a scrape of any process reads them all."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger("leeway.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# prometheus_client's own switch: set before it is imported, it keeps figures in files there.
SHARED_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_between_processes() -> Iterator[str]:
    """A fresh directory for the figures of the worker processes started within the block (they
    inherit the environment), removed after it."""
    before = os.environ.get(SHARED_DIR)
    with tempfile.TemporaryDirectory(prefix="leeway-metrics-") as directory:
        os.environ[SHARED_DIR] = directory
        try:
            yield directory
        finally:
            if before is None:
                del os.environ[SHARED_DIR]
            else:
                os.environ[SHARED_DIR] = before


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.proposals = Counter(
            "leeway_proposals", "Proposals by tier and outcome", ["tier", "outcome"], registry=self.registry
        )
        self.time_to_decision = Histogram(
            "leeway_time_to_decision_seconds",
            "From proposal to grant, in working time (the policy's working_hours, if any)",
            ["tier"],
            registry=self.registry,
            buckets=(0.5, 10, 60, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
        )
        self.ack = Histogram(
            "leeway_ack_seconds",
            "Time to answer Slack's requests",
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.slack_errors = Counter(
            "leeway_slack_errors", "Slack Web API errors by code", ["code"], registry=self.registry
        )
        self.webhook_deliveries = Counter(
            "leeway_webhook_deliveries",
            "Webhook delivery attempts by endpoint (host) and status (the HTTP status, timeout or network)",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.backlog = Backlog()
        self.registry.register(self.backlog)
        self.webhook_backlog = WebhookBacklog()
        self.registry.register(self.webhook_backlog)
        self._children: dict[tuple[Any, ...], Any] = {}
        # What a scrape answers: this registry, or with worker processes, the sum of theirs.
        self.exposed = self.registry
        shared = os.environ.get(SHARED_DIR)
        if shared:
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed, path=shared)  # type: ignore[no-untyped-call]
            self.exposed.register(self.backlog)
            self.exposed.register(self.webhook_backlog)

    def watch_backlog(self, backlog: Callable[[], tuple[int, float]]) -> None:
        """Read the backlog from the database when scraped, so every instance reports it."""
        self.backlog.read = backlog

    def watch_webhook_backlog(self, backlog: Callable[[], dict[str, tuple[int, float]]]) -> None:
        """Read the webhooks' backlog (by endpoint) from the database when scraped."""
        self.webhook_backlog.read = backlog

    def webhook_delivery(self, endpoint: str, status: str) -> None:
        self._child(self.webhook_deliveries, endpoint, status).inc()

    def outcome(self, tier: str, outcome: str) -> None:
        self._child(self.proposals, tier, outcome).inc()

    def decided(self, tier: str, seconds: float) -> None:
        """A grant, `seconds` after its proposal."""
        self._child(self.time_to_decision, tier).observe(seconds)

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        # Looking a labelled child up anew costs more than counting in it: every proposal counts.
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children.setdefault(key, metric.labels(*labels))
        return child

    def render(self) -> bytes:
        return bytes(generate_latest(self.exposed))


class Backlog(Collector):
    """The outbox backlog as gauges read when scraped: one figure for the whole database, never
    added up across processes."""

    def __init__(self) -> None:
        self.read: Callable[[], tuple[int, float]] = lambda: (0, 0.0)

    def collect(self) -> Iterable[Metric]:
        pending, oldest = self.read()
        yield GaugeMetricFamily("leeway_outbox_backlog", "Messages owed to Slack", value=float(pending))
        yield GaugeMetricFamily(
            "leeway_outbox_oldest_seconds", "Age of the oldest message owed to Slack", value=float(oldest)
        )


class WebhookBacklog(Collector):
    """Events owed to each webhook endpoint (by host), read when scraped, like `Backlog`."""

    def __init__(self) -> None:
        self.read: Callable[[], dict[str, tuple[int, float]]] = dict

    def collect(self) -> Iterable[Metric]:
        owed = GaugeMetricFamily("leeway_webhook_backlog", "Events owed to a webhook endpoint", labels=["endpoint"])
        oldest = GaugeMetricFamily(
            "leeway_webhook_oldest_seconds", "Age of the oldest event owed to a webhook endpoint", labels=["endpoint"]
        )
        for endpoint, (count, age) in sorted(self.read().items()):
            owed.add_metric([endpoint], float(count))
            oldest.add_metric([endpoint], float(age))
        yield owed
        yield oldest


class MetricsServer:
    """prometheus_client's own server, on a daemon thread: /metrics (or any path) on
    `host:port`, apart from the port Slack reaches. port=0 takes a free one."""

    def __init__(self, metrics: Metrics, *, host: str, port: int) -> None:
        self.metrics = metrics
        self.host = host
        self.requested_port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MetricsServer:
        """Raises OSError when the address can't be bound."""
        if self._server is None:
            self._server, self._thread = start_http_server(
                self.requested_port, addr=self.host, registry=self.metrics.exposed
            )
            log.info("metrics are served on http://%s:%s/metrics", self.host, self.port)
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the metrics server is not started")
        return int(self._server.server_port)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)
