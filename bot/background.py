"""Reports are read behind the acks: on one thread a process, one report at a time.

A year's usage report is a few hundred milliseconds of Python; the acks beside it are a
millisecond each. Leads asking at once take their turns on this thread rather than each taking
a thread, and so a share of the interpreter, from the acks. (Its priority is left as it is: a
thread holding the interpreter lock at a lower priority would keep every ack in its process
waiting while the busy cores run others.)"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Background:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leeway-reports")

    def run(self, work: Callable[[], T]) -> T:
        """`work`'s result, read on the reports thread (its errors raised here)."""
        return self._pool.submit(work).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
