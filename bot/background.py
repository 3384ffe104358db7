"""Reports are read behind the acks: one thread a process, at a lower scheduling priority.

A year's usage report is a few hundred milliseconds of Python; the acks beside it are a
millisecond each. On Linux a thread is scheduled on its own, so the thread that reads reports is
given a higher nice value: when the cores are busy, the kernel runs the acks' threads first, and
the report takes the time they leave. One thread keeps reports from crowding the cores together
(a lead's second report waits for the first)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger("leeway.background")

T = TypeVar("T")

# Nice 10: well behind the acks (nice 0), still well ahead of an idle machine's batch work.
REPORTS_NICE = 10


def _behind_the_acks(nice: int) -> None:
    if sys.platform != "linux":  # elsewhere the call would renice the whole process
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError:
        log.warning("could not lower the reports thread's priority; reports run beside the acks")


class Background:
    def __init__(self, nice: int = REPORTS_NICE) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="leeway-reports", initializer=_behind_the_acks, initargs=(nice,)
        )

    def run(self, work: Callable[[], T]) -> T:
        """`work`'s result, read on the reports thread (its errors raised here)."""
        return self._pool.submit(work).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
