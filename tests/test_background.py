"""Reports are read one at a time behind the acks: on a thread of their own, or, for the usage
report, in a process of their own, started again if it dies."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from bot.background import NICENESS, Apart, Background

_started_with: tuple[str, ...] = ()


def _start(*args: str) -> None:
    global _started_with
    _started_with = args


def _how_started() -> tuple[int, tuple[str, ...]]:
    return os.getpid(), _started_with


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def _fails() -> None:
    raise ZeroDivisionError("in the reports process")


def _plus(*, a: int, b: int) -> int:
    return a + b


def test_reports_are_read_one_at_a_time_on_a_thread_of_their_own() -> None:
    reports = Background()
    try:
        threads = {reports.run(threading.get_native_id) for _ in range(3)}
        assert len(threads) == 1
        assert threads != {threading.get_native_id()}
        with pytest.raises(ZeroDivisionError):
            reports.run(lambda: 1 // 0)
        assert reports.run(lambda: "still there") == "still there"
        # With no reports process, a report meant for it is read on the thread.
        assert reports.run_apart(_plus, here=threading.get_native_id, a=1, b=2) in threads
    finally:
        reports.close()


def test_the_usage_report_is_read_in_a_process_of_its_own_set_up_once() -> None:
    reports = Background(Apart(f"{__name__}:_start", "sqlite:///x.db", "policy"))
    try:
        reports.start()
        first, started = reports.run_apart(_how_started, here=lambda: (0, ()))
        assert first != os.getpid()
        assert started == ("sqlite:///x.db", "policy")
        assert reports.run_apart(_how_started, here=lambda: (0, ()))[0] == first  # the same process, kept
        # Lower: when the cores are busy, the acks in this process run first.
        assert reports.run_apart(_priority, here=lambda: 0) == min(_priority() + NICENESS, 19)
        assert reports.run_apart(_plus, here=lambda: 0, a=2, b=3) == 5
        with pytest.raises(ZeroDivisionError, match="in the reports process"):
            reports.run_apart(_fails, here=lambda: None)
        assert reports.run_apart(_plus, here=lambda: 0, a=1, b=1) == 2  # a report's error ends only it
    finally:
        reports.close()
    with pytest.raises(RuntimeError, match="closed"):  # no new process once closed
        reports.run_apart(_plus, here=lambda: 0, a=1, b=1)


def test_a_reports_process_that_died_is_started_again_for_the_next_report() -> None:
    reports = Background(Apart(f"{__name__}:_start", "again"))
    try:
        first, _ = reports.run_apart(_how_started, here=lambda: (0, ()))
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(first):
            time.sleep(0.05)
        second, started = reports.run_apart(_how_started, here=lambda: (0, ()))
        assert second not in (first, os.getpid())
        assert started == ("again",)
    finally:
        reports.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
