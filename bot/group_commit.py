"""Group commit: writes that arrive together share one transaction.

Under load, each proposal paying for its own BEGIN, statements and COMMIT is most of what a
request costs. Here the first caller to find no write in progress becomes the leader and writes
everything queued so far in one go; callers arriving meanwhile wait for the next leader. One
caller alone is written at once, so nothing waits for a batch to fill.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Enough to cover every request in flight; a bound keeps one transaction short.
MAX_BATCH = 64


class _Slot(Generic[Item, Result]):
    """One caller's item, and the lock it waits on: released when its write is done, or when
    the caller is to lead the next write."""

    __slots__ = ("done", "error", "item", "result", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit(Generic[Item, Result]):
    def __init__(self, max_batch: int = MAX_BATCH, alone_on: tuple[type[Exception], ...] = (Exception,)) -> None:
        """`alone_on`: the errors that may be one item's fault, after which each item of the
        failed batch is written on its own. Any other error (the database is down, say) is
        every item's answer at once, rather than each retrying into the same wall."""
        self.max_batch = max_batch
        self.alone_on = alone_on
        self._queue: list[_Slot[Item, Result]] = []
        self._writing = False
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Items queued for the next write."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: Item, write: Callable[[Sequence[Item]], Sequence[Result]]) -> Result:
        """Write `item`, perhaps together with others, and return its result. `write` takes a
        batch and returns one result per item, in order, all in one transaction. If a batch
        fails with an error of `alone_on`, each of its items is written on its own, so one bad
        item fails only itself."""
        slot: _Slot[Item, Result] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            leads = not self._writing
            self._writing = True
        if not leads:
            # Woken once: with its result, or to lead. Each caller is woken only for itself, not
            # every waiter at every write's end (each wake is a thread switch, under load).
            slot.wake.acquire()
        if not slot.done:
            self._lead(write)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self, write: Callable[[Sequence[Item]], Sequence[Result]]) -> None:
        """Write the first items queued (the leader's own is first: leadership passes in
        order), wake their callers, and hand the lead to the first caller still waiting."""
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        try:
            _write(batch, write, self.alone_on)
        finally:
            for slot in batch[1:]:
                slot.wake.release()
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._writing = following is not None
            if following is not None:
                following.wake.release()


def _write(
    batch: list[_Slot[Item, Result]],
    write: Callable[[Sequence[Item]], Sequence[Result]],
    alone_on: tuple[type[Exception], ...],
) -> None:
    try:
        try:
            results = write([slot.item for slot in batch])
        except Exception as error:
            if len(batch) == 1 or not isinstance(error, alone_on):
                for slot in batch:
                    slot.error = error
                return
            for slot in batch:
                try:
                    (slot.result,) = write([slot.item])
                except Exception as alone:
                    slot.error = alone
                slot.done = True
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result = result
            slot.done = True
    finally:
        for slot in batch:
            if not slot.done and slot.error is None and slot.result is None:
                slot.error = RuntimeError("the write was interrupted before this item was written")
            slot.done = True
