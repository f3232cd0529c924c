from __future__ import annotations

import threading
import time

from sta_hands.app.ring import FrameRing


def test_full_ring_drops_the_oldest_and_counts_it() -> None:
    ring: FrameRing[int] = FrameRing(3)
    for i in range(5):
        ring.push(i)
    assert ring.drain() == [2, 3, 4]
    assert ring.dropped == 2
    assert ring.pushed == 5


def test_fast_producer_slow_consumer_keeps_memory_bounded_and_order() -> None:
    ring: FrameRing[int] = FrameRing(8)
    seen: list[int] = []
    peak = 0

    def consume() -> None:
        nonlocal peak
        for item in ring:
            peak = max(peak, len(ring) + 1)
            seen.append(item)
            time.sleep(0.001)

    consumer = threading.Thread(target=consume)
    consumer.start()
    started = time.perf_counter()
    for i in range(5000):
        ring.push(i)  # never blocks
    push_seconds = time.perf_counter() - started
    ring.close()
    consumer.join(10)
    assert not consumer.is_alive()
    assert peak <= ring.capacity
    assert seen == sorted(seen)  # order kept
    assert len(seen) + ring.dropped == 5000
    assert ring.dropped > 0
    assert push_seconds < 5.0


def test_pop_times_out_and_close_wakes_a_waiting_consumer() -> None:
    ring: FrameRing[int] = FrameRing(2)
    assert ring.pop(timeout=0.01) is None
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(ring.pop()))
    waiter.start()
    ring.close()
    waiter.join(2)
    assert got == [None]
