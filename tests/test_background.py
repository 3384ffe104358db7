"""Reports are read on one thread, behind the acks."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from bot.background import REPORTS_NICE, Background


def test_reports_are_read_one_at_a_time_on_a_thread_of_their_own() -> None:
    reports = Background()
    try:
        threads = {reports.run(threading.get_native_id) for _ in range(3)}
        assert len(threads) == 1
        assert threads != {threading.get_native_id()}
        with pytest.raises(ZeroDivisionError):
            reports.run(lambda: 1 // 0)
        assert reports.run(lambda: "still there") == "still there"
    finally:
        reports.close()


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own priority is Linux's")
def test_the_reports_thread_runs_behind_the_acks_and_only_it() -> None:
    reports = Background()
    try:
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        theirs = reports.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        assert theirs >= REPORTS_NICE > mine
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # the acks' threads stay
    finally:
        reports.close()
