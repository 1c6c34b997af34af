"""Calls a provider makes back to its customer later: receipts, replies.

One background thread per sandbox works through a queue ordered by due time,
so a demo campaign of thousands of messages does not start thousands of
threads. A call that fails (no answer, or HTTP 5xx) is tried again a second
later, up to ``attempts`` times, as eSMS documents for its callbacks.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any

import httpx


class Courier:
    """Makes HTTP calls later, from one background thread (receipts, replies). A call
    that fails is retried up to ``attempts`` times, a second apart."""

    def __init__(self, *, attempts: int = 5, timeout: float = 5.0) -> None:
        self.attempts, self.timeout = attempts, timeout
        self.sent: list[tuple[str, str, int | None]] = []  # method, url, status (None: failed)
        self._heap: list[tuple[float, int, str, str, dict[str, Any], int]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._busy = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, method: str, url: str, **kwargs: Any) -> None:
        with self._cv:
            self._push(time.monotonic() + delay, method, url, kwargs, 1)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="courier")
                self._thread.start()

    def close(self) -> None:
        """Stop the thread; calls not made yet are dropped."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every scheduled call was made (or gave up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    def _push(self, due: float, method: str, url: str, kwargs: dict[str, Any],
              attempt: int) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), method, url, kwargs, attempt))
        self._cv.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                with self._cv:
                    while not self._closed and (not self._heap
                                                or self._heap[0][0] > time.monotonic()):
                        wait = self._heap[0][0] - time.monotonic() if self._heap else None
                        self._cv.wait(wait)
                    if self._closed:
                        return
                    _, _, method, url, kwargs, attempt = heapq.heappop(self._heap)
                    self._busy += 1
                status = self._call(client, method, url, kwargs)
                with self._cv:
                    self._busy -= 1
                    if (status is None or status >= 500) and attempt < self.attempts:
                        self._push(time.monotonic() + 1.0, method, url, kwargs, attempt + 1)
                    self.sent.append((method, url, status))
                    self._cv.notify_all()

    @staticmethod
    def _call(client: httpx.Client, method: str, url: str, kwargs: dict[str, Any]) -> int | None:
        try:
            return client.request(method, url, **kwargs).status_code
        except httpx.HTTPError:
            return None
