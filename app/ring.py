"""`FrameRing`: the bounded hand-over between a capture thread and its consumers.

Drop-oldest, thread-safe, and the producer never blocks: a slow consumer loses the oldest frames
(counted in `dropped`), never the newest, and memory stays bounded by `capacity`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from sta_hands.app.worker import Worker

log = logging.getLogger(__name__)
T = TypeVar("T")


class FrameRing(Generic[T]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a ring needs room for at least one item")
        self._items: deque[T] = deque(maxlen=capacity)
        self._ready = threading.Condition()
        self._closed = False
        self.capacity = capacity
        self.pushed = 0
        self.dropped = 0

    def push(self, item: T) -> None:
        """Append `item`; when full, the oldest item is dropped and counted. Never blocks on a consumer."""
        with self._ready:
            if len(self._items) == self.capacity:
                self.dropped += 1
            self._items.append(item)
            self.pushed += 1
            self._ready.notify_all()

    def pop(self, timeout: float | None = None) -> T | None:
        """The oldest item, waiting up to `timeout` s; None on time-out or when closed and empty."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._items or self._closed, timeout):
                return None
            return self._items.popleft() if self._items else None

    def drain(self) -> list[T]:
        """Every item held, oldest first, leaving the ring empty."""
        with self._ready:
            items = list(self._items)
            self._items.clear()
            return items

    def close(self) -> None:
        """Wake every waiting consumer; later pops return what is left, then None."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)

    def batches(self, stopping: Callable[[], bool], poll: float = 0.1) -> Iterator[list[T]]:
        """Every item waiting, oldest first, one list per wake-up, until the ring is closed and empty or
        `stopping()` (asked every `poll` s): how a consumer thread that keeps up takes all it missed."""
        while not stopping():
            first = self.pop(timeout=poll)
            if first is None:
                if self._closed:
                    return
                continue
            yield [first, *self.drain()]

    def __iter__(self) -> Iterator[T]:
        """Pop until the ring is closed and empty."""
        while True:
            item = self.pop()
            if item is None:
                return
            yield item


class RingConsumer(Worker, Generic[T]):
    """A thread that takes what waits in `ring`, all of it at each wake-up (`_take`), until the ring is
    closed and empty (then `_drained`) or the thread is stopped (stopping closes the ring to wake it); an
    exception goes to `_failed`, never a silently dead thread. The recognizer and the display stage."""

    def __init__(self, name: str, ring: FrameRing[T]) -> None:
        self.ring = ring
        super().__init__(name)

    def _wake(self) -> None:
        self.ring.close()

    def _run(self) -> None:
        try:
            for items in self.ring.batches(lambda: self.stopping):
                self._take(items)
            if not self.stopping:
                self._drained()
        except Exception as error:
            self._failed(error)

    def _take(self, items: list[T]) -> None:
        raise NotImplementedError

    def _drained(self) -> None:
        """Everything pushed has been taken and no more will come."""

    def _failed(self, error: Exception) -> None:
        log.exception("%s failed: %s", self._thread.name, error)
