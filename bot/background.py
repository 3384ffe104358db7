"""Reports are read behind the acks: one at a time, on a thread of their own, or, for the longest
(a year's usage), in a process of their own, at a lower priority.

A year's usage report is about 30 ms of Python at a million proposals (a tenth of a second to
the reply under load); the acks beside it are a millisecond each. Leads asking at once take
their turns rather than each taking a thread, and so a share of
the interpreter, from the acks. Even one at a time, a report on a thread holds the interpreter
for up to its switch interval (5 ms) each time an ack's thread wants it back: with reports back
to back, the acks' p99 more than doubled. In a process of its own a report shares no lock with
the acks, and its lower priority lets the operating system run the acks first when the cores
are busy. (A thread can't be given a lower priority: holding the interpreter lock at it, it
would keep every ack in its process waiting while the busy cores run others.)"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

CLOSE_WITHIN = 5.0  # seconds a report under way may take to end at close
NAME = "leeway-reports"  # the reports process's name, as `ps` and `top` show it
NICENESS = 10  # how much lower the reports process's priority is than its parent's


class Background:
    """`apart`: how the reports process is set up (None: every report on the thread)."""

    def __init__(self, apart: Apart | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=NAME)
        self._apart = apart
        self._process: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, work: Callable[[], T]) -> T:
        """`work`'s result, read on the reports thread (its errors raised here)."""
        return self._pool.submit(work).result()

    def run_apart(self, work: Callable[..., T], *, here: Callable[[], T], **kwargs: Any) -> T:
        """`work(**kwargs)`'s result, read in the reports process (a module's function, and
        arguments that pickle; its errors raised here); with no process, `here()`'s, read on the
        reports thread. A process that died (killed, out of memory) is started again, once a call."""
        if self._apart is None:
            return self.run(here)
        process = self._process_pool()
        try:
            return process.submit(work, **kwargs).result()
        except BrokenProcessPool:
            with self._lock:
                if self._process is process:  # not one another report started meanwhile
                    self._process = None
        return self._process_pool().submit(work, **kwargs).result()

    def start(self) -> None:
        """Start the reports process now, so the first report doesn't wait for it to start."""
        if self._apart is not None:
            self._process_pool().submit(int)

    def _process_pool(self) -> ProcessPoolExecutor:
        assert self._apart is not None
        with self._lock:
            if self._closed:  # never a new process while this one stops
                raise RuntimeError("the reports process is closed")
            if self._process is None:
                self._process = ProcessPoolExecutor(
                    max_workers=1,
                    # Not forked: this process has threads (the sender's, the schedule's, a lock held).
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_started_apart,
                    initargs=(self._apart.start, self._apart.args),
                )
            return self._process

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            process, self._process, self._closed = self._process, None, True
        if process is not None:
            # Waited for, so its queues are put away before this process ends. A report stuck past
            # that (a database that stopped answering) still holds up this process's exit, as it
            # did on the thread: the pool's own clean-up at exit waits for it.
            closing = threading.Thread(
                target=process.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True
            )
            closing.start()
            closing.join(CLOSE_WITHIN)


class Apart:
    """The reports process's set-up: `start` ("module:function") called with `args` in it before
    its first report; named, so the module is imported there only once its priority is lowered."""

    def __init__(self, start: str, *args: Any) -> None:
        self.start = start
        self.args = args


def _started_apart(start: str, args: tuple[Any, ...]) -> None:
    # Ctrl-C reaches the whole process group: the process that started this one stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)  # first: its start (the imports, the engine) is work the acks come before
    die_with_parent()
    try:  # Linux: named, so it isn't mistaken for another of Leeway's processes
        with open("/proc/self/comm", "w") as comm:
            comm.write(NAME)
    except OSError:
        pass
    module, function = start.split(":")
    getattr(importlib.import_module(module), function)(*args)


def die_with_parent() -> None:
    """If the process that started this one ends without stopping it (kill -9, the
    out-of-memory killer), end at once too, rather than go on unsupervised."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="leeway-parent-watch", daemon=True).start()
