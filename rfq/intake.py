"""Quote intake of a process that receives providers' answers (a quote gateway; the bench's
submitters): a batch per RFQ instead of a transaction per quote.

Quotes for one RFQ that arrive while its previous batch is being written wait, and go
together in the next (rfq.services.quotes_submit: one lock, one commit, one push for all of
them), instead of queueing one by one on the RFQ's row lock, each paying the round trips and
the commit. Batches of different RFQs run in parallel on the pool; at most one batch per RFQ
is in flight, so the pool's threads never wait on each other's RFQ lock. A batch holds one
answer per invitation: a provider's update arriving behind its quote goes in the next batch,
in order. A batch refused as a whole (one answer's bad price, say) is retried one answer at
a time, so only the bad answer fails.

The intake only changes when quotes are written, never what is written: each quote keeps
its own arrival time (its `received_at`, the window is judged by it), and the RFQ's row lock
still guards every write, so an intake in each of several processes is safe."""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection

from core.errors import DomainError
from rfq import services
from rfq.models import Quote


@dataclass(frozen=True)
class Receipt:
    """What became of an answer: its quote (None when ignored, the window being over) and,
    for whoever watches the intake, when its batch started and committed (perf_counter) and
    how many answers it held."""

    quote: Quote | None
    started: float
    committed: float
    batch: int


class QuoteIntake:
    def __init__(self, workers: int = 4):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rfq-intake")
        self._workers = workers
        self._lock = threading.Lock()
        self._waiting: dict[int, deque[tuple[services.Answer, Future]]] = {}
        self._in_flight: set[int] = set()

    def submit(self, rfq_id: int, answer: services.Answer) -> Future:
        """Queue `answer` (for an invitation of RFQ `rfq_id`); the future gives its Receipt, or
        the error that refused it."""
        future: Future = Future()
        with self._lock:
            self._waiting.setdefault(rfq_id, deque()).append((answer, future))
            if rfq_id in self._in_flight:
                return future  # the batch in flight schedules the next one when it ends
            self._in_flight.add(rfq_id)
        self._pool.submit(self._write_batch, rfq_id)
        return future

    def _next_batch(self, rfq_id: int) -> list[tuple[services.Answer, Future]]:
        with self._lock:
            waiting = self._waiting[rfq_id]
            batch, seen, later = [], set(), deque()
            while waiting:
                answer, future = waiting.popleft()
                (later if answer.invitation_id in seen else batch).append((answer, future))
                seen.add(answer.invitation_id)
            waiting.extend(later)
            return batch

    def _write_batch(self, rfq_id: int) -> None:
        batch = self._next_batch(rfq_id)
        try:
            self._write(batch)
        finally:
            with self._lock:
                more = bool(self._waiting[rfq_id])
                if not more:
                    del self._waiting[rfq_id]
                    self._in_flight.discard(rfq_id)
            if more:  # behind the other RFQs' batches already queued: no RFQ starves the pool
                self._pool.submit(self._write_batch, rfq_id)

    @staticmethod
    def _write(batch: list[tuple[services.Answer, Future]]) -> None:
        started = time.perf_counter()
        try:
            quotes = services.quotes_submit(answers=[a for a, _ in batch])
        except DomainError:
            if len(batch) == 1:
                raise_into(batch[0][1])
                return
            for one in batch:  # find the answer that was refused; the others are taken
                QuoteIntake._write([one])
            return
        except Exception:  # noqa: BLE001 (handed to every waiting caller, not swallowed)
            for _, future in batch:
                raise_into(future)
            return
        committed = time.perf_counter()
        for (_, future), quote in zip(batch, quotes, strict=True):
            future.set_result(Receipt(quote, started, committed, len(batch)))

    def close(self) -> None:
        """Once every answer's future is done: close the database connection each pool thread
        holds (a thread's connection is its own: only it can close it), and the pool."""
        barrier = threading.Barrier(self._workers)

        def close_mine():
            barrier.wait()  # every thread takes one: all threads are started and each closes its own
            connection.close()

        for f in [self._pool.submit(close_mine) for _ in range(self._workers)]:
            f.result()
        self._pool.shutdown(wait=True)


def raise_into(future: Future) -> None:
    """Hand the exception being handled to `future`."""
    future.set_exception(sys.exc_info()[1])
