"""The two bench databases: where they live, how to start them from nothing, their indexes."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from leadhub import models  # noqa: F401 - every table on Base.metadata
from leadhub.db import Base, make_engine

# Outside the repository: the SQLite file of a million leads is 1.6 GB.
DATA = Path(tempfile.gettempdir()) / "leadhub-bench"
SQLITE_PATH = DATA / "bench.db"
POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1/leadhub_bench"
# Tables whose secondary indexes are dropped before a bulk load and built again after it.
BULK_TABLES = ("lead", "lead_search_term", "interaction", "lead_tag")
FORBIDDEN_DATABASES = frozenset({"test", "postgres", "template0", "template1"})


@dataclass(frozen=True)
class Target:
    name: str  # "sqlite" or "postgresql"
    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def libpq(self) -> str:
        """The URL as psycopg.connect() takes it."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def target(name: str, *, sqlite_path: Path, postgresql_url: str) -> Target:
    if name == "sqlite":
        return Target("sqlite", f"sqlite:///{sqlite_path.resolve()}")
    if name == "postgresql":
        database = make_url(postgresql_url).database
        if database in FORBIDDEN_DATABASES:
            raise SystemExit(f"refusing to benchmark in the database {database!r}: use its own one")
        return Target("postgresql", postgresql_url)
    raise SystemExit(f"unknown database {name!r}: choose sqlite and/or postgresql")


def ensure_exists(t: Target) -> None:
    """Create the SQLite folder or the PostgreSQL database when missing."""
    if t.is_sqlite:
        Path(make_url(t.url).database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    url = make_url(t.url)
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{url.database}"')


def wipe(t: Target) -> None:
    """Drop everything: the SQLite files, or every object in PostgreSQL's public schema."""
    if t.is_sqlite:
        path = Path(make_url(t.url).database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(t.libpq(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def engine_for(t: Target) -> Engine:
    return make_engine(t.url)


def _where(condition: object) -> str:
    """A partial index's condition in one spelling: PostgreSQL adds brackets, SQLite does not."""
    if condition is None:
        return ""
    return "".join(c for c in str(condition).lower() if c not in "() \n")


def model_indexes(table: str, dialect: str) -> dict[str, tuple[list[str], str]]:
    """Index name -> (columns, partial condition), as the models (and migrations) define them."""
    return {
        index.name: (
            [c.name for c in index.columns],
            _where(index.dialect_options[dialect].get("where")),
        )
        for index in Base.metadata.tables[table].indexes
        if index.name
    }


def database_indexes(bind: Engine | Connection, table: str) -> dict[str, tuple[list[str], str]]:
    """Secondary indexes the database holds (not those behind a primary key or unique)."""
    found = {}
    for index in inspect(bind).get_indexes(table):
        if index.get("duplicates_constraint") or index.get("unique"):
            continue
        options = index.get("dialect_options", {})
        where = options.get("sqlite_where", options.get("postgresql_where"))
        found[index["name"]] = (list(index["column_names"]), _where(where))
    return found


def drop_indexes(engine: Engine, tables: tuple[str, ...] = BULK_TABLES) -> list[str]:
    dropped = []
    with engine.begin() as conn:
        for table in tables:
            for name in database_indexes(conn, table):
                conn.execute(text(f'DROP INDEX "{name}"'))
                dropped.append(name)
    return dropped


def create_indexes(engine: Engine, tables: tuple[str, ...] = BULK_TABLES) -> list[str]:
    """Build the models' indexes that are missing or differ; drop the ones the models lack."""
    built = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for table in tables:
            have = database_indexes(conn, table)
            want = model_indexes(table, engine.dialect.name)
            for name, shape in have.items():
                if want.get(name) != shape:
                    conn.execute(text(f'DROP INDEX "{name}"'))
            for index in Base.metadata.tables[table].indexes:
                if have.get(index.name) != want[index.name]:
                    conn.execute(CreateIndex(index))
                    built.append(index.name)
    return built


def analyze(t: Target, engine: Engine) -> None:
    """Fresh planner statistics; on PostgreSQL also the visibility map (index-only scans)."""
    if t.is_sqlite:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA optimize"))
        return
    with psycopg.connect(t.libpq(), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
