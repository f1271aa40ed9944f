"""Engine, session, declarative base, mixins and keyset pagination."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    any_,
    create_engine,
    event,
    literal,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator, UserDefinedType, to_instance

from leadhub.errors import N_, InvalidInput

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; LeadHub stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        # Enums are stored by value ("new"), as VARCHAR with a CHECK-free column on both databases.
        enum.Enum: SAEnum(
            enum.Enum,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides where transactions begin, so SAVEPOINTs work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # in autocommit, each statement is one


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with LeadHub's connection settings for SQLite and PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # IMMEDIATE: a transaction takes the write lock when it starts, so a reader that later
        # writes never meets "database is locked" (SQLite cannot wait out a stale snapshot);
        # others wait up to busy_timeout. WAL keeps plain reads of other processes unblocked.
        event.listen(engine, "begin", _begin_immediate)
        return engine
    # No JIT compiling: LeadHub's statements are short or set-based over many rows, where
    # PostgreSQL's cost estimate switches JIT on and compiling costs more (100 ms and up per
    # statement) than it saves.
    connect_args = {"options": "-c jit=off", **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class Database:
    """One engine and a thread-scoped session, usable with or without a Flask app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def configure(self, url: str) -> None:
        if self.engine is not None and self.engine.url.render_as_string(False) == url:
            return
        self.engine = make_engine(url)
        self.session.remove()
        self.session.configure(bind=self.engine)

    @property
    def bind(self) -> Engine | Connection | None:
        """What new sessions bind to: the engine, or one connection inside an enclosing
        transaction (the tests')."""
        return self.session.session_factory.kw.get("bind")

    def init_app(self, app: Any) -> None:
        self.configure(app.config["DATABASE_URL"])
        app.teardown_appcontext(lambda _exc: self.session.remove())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work for jobs and commands: commit on success, roll back on error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            self.session.remove()

    @contextmanager
    def short_write(self) -> Iterator[Connection]:
        """A Core-level write with no Session, committed at the end of the block; inside an
        enclosing transaction (the tests'), a savepoint of it."""
        bind = self.bind
        if isinstance(bind, Connection):
            with bind.begin_nested():
                yield bind
            return
        if bind is None:
            raise RuntimeError("the database is not configured")
        with bind.begin() as connection:
            yield connection


db = Database()


def among(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter, not thousands for
    psycopg to parse and SQLAlchemy to expand, and the same statement text for any count."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


class _BinaryList(list[Any]):
    """A list psycopg sends as an array in its binary form (registered below)."""


class BinaryArray(UserDefinedType[list[Any]]):
    """A PostgreSQL array parameter sent in binary: for thousands of values several times
    cheaper for psycopg to build, and for PostgreSQL to read, than the text form `{1,2,…}`."""

    cache_ok = True
    render_bind_cast = True  # `…::INTEGER[]`: the binary array's own type may be narrower

    def __init__(self, item_type: Any) -> None:
        self.item_type = to_instance(item_type)

    def get_col_spec(self, **_kw: Any) -> str:
        return f"{self.item_type.compile(dialect=postgresql.dialect())}[]"

    def bind_processor(self, dialect: Any) -> Any:
        def binary(value: Sequence[Any] | None) -> Any:
            return None if value is None else _BinaryList(value)

        return binary


def _register_binary_lists() -> None:
    from psycopg import adapters
    from psycopg.types.array import ListBinaryDumper

    adapters.register_dumper(_BinaryList, ListBinaryDumper)


_register_binary_lists()


def array(values: Sequence[Any], item_type: Any) -> Any:
    """`values` as one PostgreSQL array parameter of `item_type`, sent in binary."""
    return literal(list(values), BinaryArray(item_type))


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor holding the sort key of the last row of a page."""
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """Read a cursor back; anything unreadable is the caller's bad input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        out: list[Any] = []
        for kind, value in zip(kinds, values, strict=True):
            if value is None:
                out.append(None)
            elif kind is datetime:
                out.append(datetime.fromisoformat(value))
            else:
                out.append(kind(value))
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(N_("The cursor is not valid; start again from the first page.")) from exc
