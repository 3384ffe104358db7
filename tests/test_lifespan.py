"""A worker's start: what building Leeway made is frozen out of the collector's sight first, so
what the start's own jobs make and leave behind is still collected."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, cast

from bot.web import LeewayASGI, Lifespan


def test_the_heap_is_frozen_before_the_start_runs_and_not_after() -> None:
    frozen_when: dict[str, int] = {}
    made_by_the_start: list[object] = []

    def start() -> None:
        frozen_when["start"] = gc.get_freeze_count()
        made_by_the_start.append([])  # as a start job's leftovers would be (a list: the collector tracks it)

    lifespan = Lifespan(cast(LeewayASGI, None), start=start, stop=lambda: None)
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(events)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    gc.unfreeze()
    try:
        asyncio.run(lifespan({"type": "lifespan"}, receive, send))
        assert frozen_when["start"] > 0  # frozen by the time the start runs
        (leftover,) = made_by_the_start
        assert any(o is leftover for o in gc.get_objects())  # not frozen: still the collector's
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    finally:
        gc.unfreeze()
