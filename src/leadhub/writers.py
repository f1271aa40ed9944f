"""Writing a long job's batches on threads of their own, each batch committed in order.

A rescore or a bulk operation is mostly database work: every index of every changed lead.
The job's thread reads and prepares the next batch (Python) while writer threads store the
batches before it, on PostgreSQL two at once on connections of their own. Each batch is a
transaction of its own; a writer does what only its batch touches, then waits for the batch
before it to commit, and only then touches shared rows (progress, counts) and commits. So
progress always covers a gapless prefix of the job, and a job cut off midway goes on after
its last committed batch. A batch that needs something of the batch before it (the round robin's
turns) gets it passed on as soon as that one knows it (`pass_on`), not at its commit.

With one writer (SQLite, which has one writer at a time anyway, or a session bound to one
connection as an enclosing transaction's is) the job's thread and the writer take turns on the
database (`database`): neither waits on SQLite's write lock, nor uses one connection at the
same time as the other.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.engine import Connection

from leadhub.db import db

POSTGRESQL_WRITERS = 2  # the database's work spreads over cores; more measured slower on two
STOP = object()  # tells a writer thread to end


class Stop(Exception):
    """The batch must not be committed: the job ended, or another worker took it further."""


class OrderedWriters:
    """Writer threads for one job; `write(seq, item)` is the subclass's, one transaction each.

    A subclass's `write` calls `wait_for_turn(seq)` between its own rows and the shared ones,
    and raises Stop to end the job's writing (the batch rolled back). The batch is counted as
    committed when `write` returns.
    """

    def __init__(self, name: str, *, side_by_side: bool = True) -> None:
        bind = db.session().get_bind()
        alone = not side_by_side or isinstance(bind, Connection)
        self.count = 1 if alone or bind.dialect.name != "postgresql" else POSTGRESQL_WRITERS
        self.database: Any = threading.Lock() if self.count == 1 else contextlib.nullcontext()
        self.batches: queue.Queue[Any] = queue.Queue(maxsize=self.count)
        self.turn = 0  # the sequence number of the next batch to commit
        self.passed: dict[int, Any] = {}  # what batch n - 1 passed on to batch n (pass_on)
        self.in_order = threading.Condition()
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self.app = current_app._get_current_object() if has_app_context() else None
        self.threads = [
            threading.Thread(target=self._work, name=f"{name}-writer-{n}", daemon=True)
            for n in range(self.count)
        ]
        for thread in self.threads:
            thread.start()

    def write(self, seq: int, item: Any) -> None:
        raise NotImplementedError

    def hand(self, seq: int, item: Any) -> bool:
        """Queue batch `seq` for a writer; False once writing has stopped."""
        while not self.stopped.is_set():
            try:
                self.batches.put((seq, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> BaseException | None:
        """Let the writers store what was handed to them and end; a writer's error, if any."""
        for _ in self.threads:
            self.batches.put(STOP)
        for thread in self.threads:
            thread.join()
        return self.error

    def wait_for_turn(self, seq: int) -> None:
        """Return once every batch before `seq` has committed; Stop when writing has stopped."""
        with self.in_order:
            self.in_order.wait_for(lambda: self.turn == seq or self.stopped.is_set())
        if self.stopped.is_set():
            raise Stop

    def pass_on(self, seq: int, value: Any) -> None:
        """Give batch `seq + 1` what it needs of batch `seq` before `seq` commits; a batch
        worked again passes on again, and the next one checks at its turn what it took."""
        with self.in_order:
            self.passed[seq + 1] = value
            self.in_order.notify_all()

    def passed_on(self, seq: int) -> Any:
        """What batch `seq - 1` passed on, once it has; Stop when writing has stopped."""
        with self.in_order:
            self.in_order.wait_for(lambda: seq in self.passed or self.stopped.is_set())
            if self.stopped.is_set():
                raise Stop
            return self.passed[seq]

    def _stop(self) -> None:
        self.stopped.set()
        with self.in_order:
            self.in_order.notify_all()

    def _work(self) -> None:
        context = self.app.app_context() if self.app is not None else contextlib.nullcontext()
        with context:
            while (handed := self.batches.get()) is not STOP:
                if self.stopped.is_set():
                    continue  # drained without writing: the job no longer goes on here
                seq, item = handed
                try:
                    self.write(seq, item)
                except Stop:
                    self._stop()
                    continue
                except BaseException as error:  # handed to the job's thread, which raises it
                    self.error = self.error or error
                    self._stop()
                    continue
                with self.in_order:
                    self.turn = seq + 1
                    self.passed.pop(seq, None)
                    self.in_order.notify_all()
