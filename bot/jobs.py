"""Scheduled jobs: thin, each reads "now" from the injected clock through the services."""

from __future__ import annotations

import logging

from bot import services

log = logging.getLogger("leeway.jobs")

DUE_EVERY_SECONDS = 30


def requests_due(ctx: services.Context) -> tuple[int, int]:
    """Expire what is past its time, then offer the rest to the next person. Safe to run on
    every instance at once: each due request is claimed with a conditional update."""
    expired = services.expire_due(ctx)
    rerouted = services.reroute_due(ctx)
    if expired or rerouted:
        log.info("expired %d request(s), re-routed %d", expired, rerouted)
    return expired, rerouted
