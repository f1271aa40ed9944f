"""The lead generator in a forked child process, so generating and writing overlap.

Chunks travel as marshal bytes (twice as fast as pickle for plain tuples). For SQLite the child
also keeps the search terms itself: it stores them in a side file and, once the leads are out,
sorts them into a copy of the real table there. The loader builds the lead indexes meanwhile,
then attaches the file and copies the table over in key order.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from benchmarks.generate import Chunk, LeadGenerator
from benchmarks.world import World
from leadhub.leads.models import LeadSearchTerm

CHUNK = 20_000
WAIT = "waiting for the generator"


class TermsFile:
    """Search terms in a SQLite file of their own, sorted into `lead_search_term` at the end."""

    def __init__(self, path: Path) -> None:
        for suffix in ("", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(
            "CREATE TABLE heap (term TEXT NOT NULL, lead_id INTEGER NOT NULL,"
            " distributor_id INTEGER NOT NULL)"
        )
        self.conn.execute("BEGIN")
        self.rows = 0

    def add(self, terms: list[tuple[str, int, int]]) -> None:
        self.conn.executemany("INSERT INTO heap VALUES (?, ?, ?)", terms)
        self.rows += len(terms)

    def finish(self) -> None:
        # The same definition as the real table, so SQLite's transfer optimisation can copy it.
        ddl = CreateTable(LeadSearchTerm.__table__).compile(dialect=sqlite.dialect())
        self.conn.execute(str(ddl))
        self.conn.execute(
            "INSERT INTO lead_search_term (term, lead_id, distributor_id) "
            "SELECT term, lead_id, distributor_id FROM heap ORDER BY term, lead_id"
        )
        self.conn.execute("DROP TABLE heap")
        self.conn.execute("COMMIT")
        self.conn.close()


def _produce(
    world: World, size: int, seed: int, queue: multiprocessing.Queue, terms_path: Path | None
) -> None:
    gc.disable()
    try:
        generator = LeadGenerator(world, size=size, seed=seed)
        terms = TermsFile(terms_path) if terms_path else None
        for chunk in generator.chunks(CHUNK):
            if terms is not None:
                terms.add(chunk.terms)
                chunk.terms = []
            queue.put(
                marshal.dumps((chunk.leads, chunk.terms, chunk.lead_tags, chunk.interactions))
            )
        queue.put(("leads", generator.checked))
        if terms is not None:
            terms.finish()
        queue.put(("terms", terms.rows if terms else 0))
    except BaseException as exc:  # handed to the parent, which raises it
        queue.put(("error", repr(exc)))


class Producer:
    """Starts generating at once; `chunks()` hands the leads over, `terms_ready()` waits."""

    def __init__(self, world: World, *, size: int, seed: int, terms_path: Path | None) -> None:
        context = multiprocessing.get_context("fork")
        self.queue = context.Queue(maxsize=4)
        self.size = size
        self.terms_path = terms_path
        self.waited = 0.0
        self.child = context.Process(
            target=_produce, args=(world, size, seed, self.queue, terms_path), daemon=True
        )
        self.child.start()

    def _next(self) -> object:
        before = time.perf_counter()
        while True:
            try:
                item = self.queue.get(timeout=5)
                break
            except Exception:  # queue.Empty: make sure the child still lives
                if not self.child.is_alive():
                    raise RuntimeError("the lead generator died") from None
        self.waited += time.perf_counter() - before
        if isinstance(item, tuple) and item[0] == "error":
            raise RuntimeError(f"the lead generator failed: {item[1]}")
        return item

    def chunks(self) -> Iterator[Chunk]:
        while True:
            item = self._next()
            if isinstance(item, tuple):
                if item[1] == 0 and self.size >= 97:
                    raise RuntimeError("the lead generator checked no rows against terms_for")
                return
            yield Chunk(*marshal.loads(item))  # noqa: S302 - bytes from our own child process

    def terms_ready(self) -> int:
        """Wait for the side file of terms; returns how many it holds."""
        item = self._next()
        self.child.join(timeout=30)
        return int(item[1])  # type: ignore[index]

    def stop(self) -> None:
        if self.child.is_alive():
            self.child.kill()
            self.child.join(timeout=10)
