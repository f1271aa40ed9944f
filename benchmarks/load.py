"""Load N generated leads fast: SQLite executemany in one transaction, PostgreSQL COPY.

The generator runs in a child process and hands over chunks, so generating and writing overlap
on two cores. Secondary indexes go before the load and come back after it, built from the
models; the derived tables are filled the way leads/projections.py keeps them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.schema import AddConstraint

from benchmarks import databases
from benchmarks.databases import Target
from benchmarks.generate import INTERACTION_COLUMNS, LEAD_COLUMNS, Chunk
from benchmarks.producer import WAIT, Producer
from benchmarks.world import World, build_world
from leadhub.audit.models import AuditEvent
from leadhub.auth.models import User
from leadhub.distributors.models import Distributor
from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead, LeadSearchTerm, LeadStatusCount, Tag
from leadhub.migrate import upgrade

STATUS_COUNTS = (
    "INSERT INTO lead_status_count (distributor_id, assignee_key, status, n) "
    "SELECT distributor_id, COALESCE(assignee_id, 0), status, count(*) FROM lead "
    "WHERE deleted_at IS NULL GROUP BY distributor_id, COALESCE(assignee_id, 0), status"
)
Progress = Callable[[str, int], None]


@dataclass
class LoadReport:
    size: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def data_end() -> int:
    """'Now' of a new data set: the current hour, so the newest leads are minutes old."""
    return int(time.time()) // 3600 * 3600


def insert_world(engine, world: World) -> None:  # noqa: ANN001 - an Engine
    """Distributors, staff and tags through SQLAlchemy Core, so the column types do the work."""
    now = datetime.fromtimestamp(world.end, UTC)
    created = datetime.fromtimestamp(world.start, UTC)
    stamps = {"created_at": created, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(
            insert(Distributor.__table__),
            [
                {"id": d.id, "name": d.name, "country": d.country, "language": d.language}
                | {"active": True, "agents_see_unassigned": True}
                | stamps
                for d in world.distributors
            ],
        )
        conn.execute(
            insert(User.__table__),
            [u | stamps | {"password_changed_at": created} for u in world.users],
        )
        conn.execute(insert(Tag.__table__), world.tags)


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def extra_lead_values(engine) -> tuple[tuple[str, ...], tuple]:  # noqa: ANN001 - an Engine
    """Columns added to `lead` after the generator was written: their model defaults.

    Nullable columns and those with a server default are left to the database. Others get the
    model's scalar or no-argument default, so a new column does not break `make bench`.
    """
    names, values = [], []
    for column in inspect(engine).get_columns("lead"):
        name = column["name"]
        if name in LEAD_COLUMNS or column["nullable"] or column.get("default") is not None:
            continue
        default = Lead.__table__.c[name].default if name in Lead.__table__.c else None
        if default is None:
            raise RuntimeError(f"benchmarks/generate.py does not fill the new column lead.{name}")
        value = default.arg if default.is_scalar else default.arg(None)
        if isinstance(value, dict | list):
            value = json.dumps(value)
        names.append(name)
        values.append(getattr(value, "value", value))
    return tuple(names), tuple(values)


def _with_extras(rows: list[tuple], extra: tuple) -> list[tuple]:
    return [row + extra for row in rows] if extra else rows


def write_sqlite(
    t: Target, chunks: Iterator[Chunk], progress: Progress, extra: tuple[tuple, tuple]
) -> dict[str, int]:
    """Leads, tags and interactions in one transaction; the terms come from the side file."""
    conn = sqlite3.connect(_sqlite_path(t), isolation_level=None)
    rows = dict.fromkeys(("lead", "lead_tag", "interaction"), 0)
    try:
        for pragma in (
            "journal_mode=OFF",  # only for the load: a failed load is simply started again
            "synchronous=OFF",
            "foreign_keys=OFF",  # the generator keeps every reference valid by construction
            "cache_size=-1000000",
            "temp_store=MEMORY",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        statements = (
            ("lead", _insert_sql("lead", LEAD_COLUMNS + extra[0]), "leads"),
            ("lead_tag", _insert_sql("lead_tag", ("lead_id", "tag_id")), "lead_tags"),
            ("interaction", _insert_sql("interaction", INTERACTION_COLUMNS), "interactions"),
        )
        for chunk in chunks:
            for table, sql, attribute in statements:
                items = getattr(chunk, attribute)
                conn.executemany(sql, _with_extras(items, extra[1]) if table == "lead" else items)
                rows[table] += len(items)
            progress("write", len(chunk.leads))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return rows


def copy_terms(t: Target, terms_path: Path) -> None:
    """The child's sorted table into the real one: SQLite copies the pages in key order."""
    conn = sqlite3.connect(_sqlite_path(t), isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")  # the transfer optimisation needs it off
        conn.execute("ATTACH DATABASE ? AS terms", (str(terms_path),))
        conn.execute("BEGIN")
        conn.execute("INSERT INTO main.lead_search_term SELECT * FROM terms.lead_search_term")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE terms")
    finally:
        conn.close()
    terms_path.unlink(missing_ok=True)


def _sqlite_path(t: Target) -> Path:
    return Path(make_url(t.url).database or "")


def write_postgresql(
    t: Target, chunks: Iterator[Chunk], progress: Progress, extra: tuple[tuple, tuple]
) -> dict[str, int]:
    """Everything by COPY in the transaction that truncated the tables, so rows come frozen."""
    rows = dict.fromkeys(("lead", "lead_search_term", "lead_tag", "interaction"), 0)
    copies = (
        ("lead", LEAD_COLUMNS + extra[0], "leads"),
        ("lead_search_term", ("term", "lead_id", "distributor_id"), "terms"),
        ("lead_tag", ("lead_id", "tag_id"), "lead_tags"),
        ("interaction", INTERACTION_COLUMNS, "interactions"),
    )
    with psycopg.connect(t.libpq()) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # the generator's timestamps are UTC text
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
        # Truncated in this transaction, so COPY can write frozen rows: no VACUUM pass needed
        # before index-only scans and no hint-bit writes on first read.
        conn.execute("TRUNCATE lead, lead_search_term, lead_tag, interaction CASCADE")
        # Random-order inserts into the terms' primary key are the slowest part; build it after.
        terms_pk = LeadSearchTerm.__table__.primary_key
        conn.execute(f"ALTER TABLE lead_search_term DROP CONSTRAINT {terms_pk.name}")
        with conn.cursor() as cursor:
            for chunk in chunks:
                for table, columns, attribute in copies:
                    items = getattr(chunk, attribute)
                    if not items:
                        continue
                    if table == "lead":
                        items = _with_extras(items, extra[1])
                    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FREEZE)"
                    with cursor.copy(sql) as copy:
                        for row in items:
                            copy.write_row(row)
                    rows[table] += len(items)
                progress("write", len(chunk.leads))
        progress("terms", 0)
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(str(AddConstraint(terms_pk).compile(dialect=postgresql.dialect())))
        conn.commit()
    return rows


def finish(t: Target, engine, world: World) -> None:  # noqa: ANN001 - an Engine
    """Counts, audit events on the sample leads, sequences past the loaded ids."""
    with engine.begin() as conn:
        conn.execute(text(STATUS_COUNTS))
        sample_ids = conn.scalars(
            select(Interaction.lead_id)
            .group_by(Interaction.lead_id)
            .having(func.count() >= 50)
            .order_by(Interaction.lead_id)
        ).all()
        admin = world.users[1]
        at = datetime.fromtimestamp(world.end, UTC)
        events = []
        for lead_id in sample_ids:
            events.append(
                {"action": "lead.create", "after": {"source": "meta"}, "object_id": lead_id}
            )
            for before, after in (([], ["callback"]), (["callback"], ["callback", "vip"])):
                events.append(
                    {
                        "action": "lead.update",
                        "before": {"tags": before},
                        "after": {"tags": after},
                        "object_id": lead_id,
                    }
                )
        common = {"actor_id": admin["id"], "actor_name": admin["name"], "object_type": "lead"}
        if events:
            conn.execute(
                insert(AuditEvent.__table__),
                [{"before": None, "at": at, "ip": "127.0.0.1"} | common | e for e in events],
            )
        if t.is_sqlite:
            return
        for table in (Distributor, User, Tag, Lead, Interaction, AuditEvent):
            name = table.__tablename__
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(max(id), 1) FROM {name}))"
                )
            )


def load(t: Target, *, size: int, seed: int, progress: Progress) -> LoadReport:
    """Start `t` from nothing, migrate it, and fill it with `size` leads."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    mark = started

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 2)
        mark = now

    world = build_world(seed=seed, end=data_end())
    terms_path = _sqlite_path(t).with_suffix(".terms") if t.is_sqlite else None
    producer = Producer(world, size=size, seed=seed + 1, terms_path=terms_path)
    try:
        databases.ensure_exists(t)
        databases.wipe(t)
        upgrade(t.url)
        engine = databases.engine_for(t)
        insert_world(engine, world)
        extra = extra_lead_values(engine)
        databases.drop_indexes(engine)
        engine.dispose()  # the writer wants the database to itself
        step("schema")
        was_enabled = gc.isenabled()
        gc.disable()  # millions of tuples in flight and no cycles among them
        try:
            writer = write_sqlite if t.is_sqlite else write_postgresql
            rows = writer(t, producer.chunks(), progress, extra)
        finally:
            if was_enabled:
                gc.enable()
        step("generate and write")
        progress("indexes", 0)
        others = tuple(name for name in databases.BULK_TABLES if name != "lead_search_term")
        databases.create_indexes(engine, others)
        step("indexes")
        in_side_file = producer.terms_ready()
        steps[WAIT] = round(producer.waited, 2)
        if terms_path is not None:
            copy_terms(t, terms_path)
            rows["lead_search_term"] = in_side_file
        databases.create_indexes(engine, ("lead_search_term",))
        step("search terms")
    finally:
        producer.stop()
    finish(t, engine, world)
    step("derived rows")
    progress("analyze", 0)
    databases.analyze(t, engine)
    step("analyze")
    engine.dispose()
    rows["lead_status_count"] = _count(t, LeadStatusCount.__tablename__)
    return LoadReport(size=size, seconds=time.perf_counter() - started, steps=steps, rows=rows)


def _count(t: Target, table: str) -> int:
    engine = databases.engine_for(t)
    with engine.connect() as conn:
        n = conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0
    engine.dispose()
    return int(n)


def loaded_size(t: Target) -> int | None:
    """How many leads the database holds, or None when it has no LeadHub schema."""
    try:
        databases.ensure_exists(t)
        engine = databases.engine_for(t)
        with engine.connect() as conn:
            n = conn.scalar(text("SELECT count(*) FROM lead"))
        engine.dispose()
        return int(n or 0)
    except Exception:  # noqa: BLE001 - any failure means "not loaded"
        return None


def describe(report: LoadReport) -> str:
    return json.dumps({"seconds": round(report.seconds, 1), **report.steps, **report.rows})


def standalone_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options of a scenario file run on its own (`python -m benchmarks.<file>`)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, required=True, help="number of leads")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sqlite-path", type=Path, default=databases.SQLITE_PATH)
    parser.add_argument("--postgresql-url", default=databases.POSTGRESQL_URL)
    parser.add_argument(
        "--load", action="store_true", help="load --size leads first unless they are there"
    )
    return parser


def loaded_targets(args: argparse.Namespace, say: Callable[[str], None]) -> Iterator[Target]:
    """Each database of a standalone run, holding --size leads (loaded with --load) and migrated."""
    os.environ.setdefault("LEADHUB_INSTANCE_PATH", str(databases.DATA / "instance"))
    for name in args.databases.split(","):
        t = databases.target(
            name.strip(), sqlite_path=args.sqlite_path, postgresql_url=args.postgresql_url
        )
        if loaded_size(t) != args.size:
            if not args.load:
                raise SystemExit(f"{t.name} does not hold {args.size:,} leads: add --load")
            say(f"{t.name}: loading {args.size:,} leads")
            load(t, size=args.size, seed=args.seed, progress=lambda stage, n: None)
        upgrade(t.url)
        yield t
