"""Prometheus metrics, one registry per running Leeway (so tests can run several), and the
server that offers them on a port of their own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

log = logging.getLogger("leeway.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.proposals = Counter(
            "leeway_proposals", "Proposals by tier and outcome", ["tier", "outcome"], registry=self.registry
        )
        self.time_to_decision = Histogram(
            "leeway_time_to_decision_seconds",
            "From proposal to grant",
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
        self.outbox_backlog = Gauge("leeway_outbox_backlog", "Messages owed to Slack", registry=self.registry)
        self.outbox_oldest = Gauge(
            "leeway_outbox_oldest_seconds", "Age of the oldest message owed to Slack", registry=self.registry
        )

    def watch_backlog(self, backlog: Callable[[], tuple[int, float]]) -> None:
        """Read the backlog from the database when scraped, so every instance reports it."""
        self.outbox_backlog.set_function(lambda: float(backlog()[0]))
        self.outbox_oldest.set_function(lambda: backlog()[1])

    def outcome(self, tier: str, outcome: str) -> None:
        self.proposals.labels(tier=tier, outcome=outcome).inc()

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


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
                self.requested_port, addr=self.host, registry=self.metrics.registry
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
