"""Export the leads of a desk filter as CSV, JSON Lines or XLSX, streamed in keyset batches."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from leadhub.audit import service as audit
from leadhub.auth.models import Role, User
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Forbidden, InvalidInput
from leadhub.leads.models import Lead, Tag, lead_tag
from leadhub.leads.schemas import LeadFilter
from leadhub.leads.service import filtered
from leadhub.privacy import access

FORMATS = ("csv", "jsonl", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Managers export their distributor, admins everything they see. Agents and viewers may not:
# an export takes a whole book of leads out of LeadHub, which their work does not need.
EXPORTERS = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)
BATCH_SIZE = 2000
XLSX_CHUNK = 64 * 1024

_assignee = aliased(User)
# Column name -> what is read for it. "tags" is read per batch from lead_tag.
COLUMNS: dict[str, Any] = {
    "id": Lead.id,
    "created_time": Lead.created_time,
    "received_at": Lead.received_at,
    "full_name": Lead.full_name,
    "email": Lead.email,
    "phone": Lead.phone,
    "country": Lead.country,
    "city": Lead.city,
    "language": Lead.language,
    "treatment": Lead.treatment,
    "status": Lead.status,
    "lost_reason": Lead.lost_reason,
    "score": Lead.score,
    "score_level": Lead.score_level,
    "source": Lead.source,
    "platform": Lead.platform,
    "distributor": Distributor.name,
    "assignee": _assignee.name,
    "page_name": Lead.page_name,
    "form_name": Lead.form_name,
    "campaign_name": Lead.campaign_name,
    "adset_name": Lead.adset_name,
    "ad_name": Lead.ad_name,
    "meta_lead_id": Lead.meta_lead_id,
    "first_contacted_at": Lead.first_contacted_at,
    "converted_at": Lead.converted_at,
    "tags": None,
}
DEFAULT_COLUMNS = (
    "id",
    "created_time",
    "full_name",
    "email",
    "phone",
    "country",
    "treatment",
    "status",
    "score",
    "distributor",
    "assignee",
    "tags",
)
TIME_COLUMNS = frozenset({"created_time", "received_at", "first_contacted_at", "converted_at"})
NUMBER_COLUMNS = frozenset({"id", "score"})
# Numbers and fixed values (enums) never look like a formula.
AS_IS_COLUMNS = NUMBER_COLUMNS | {"status", "score_level", "source", "platform"}
# A spreadsheet runs a cell starting with one of these as a formula (or DDE command).
FORMULA_FIRST = frozenset("=+-@\t\r")
# A signed number (a phone in E.164, a negative amount) is read as a number, never run: kept as is.
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
# A formula-like start in values joined with NUL (a false hit only costs the slow, exact path).
FORMULA_LIKE = re.compile(r"(?:\A|\x00)[=+\-@\t\r]")


def parse_format(value: str | None) -> str:
    fmt = (value or "csv").strip().lower()
    if fmt not in FORMATS:
        raise InvalidInput(
            N_("Unknown export format %(format)s: use csv, jsonl or xlsx."), format=fmt[:20]
        )
    return fmt


def parse_columns(value: str | Sequence[str] | None) -> list[str]:
    """The chosen columns in the order given; none given means the default set."""
    raw = [value] if isinstance(value, str) else list(value or [])
    parts = (name.strip() for item in raw for name in item.split(","))
    names = list(dict.fromkeys(name for name in parts if name))
    if not names:
        return list(DEFAULT_COLUMNS)
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InvalidInput(
            N_("Unknown export column %(columns)s."),
            columns=", ".join(unknown)[:200],
            details={"allowed": list(COLUMNS)},
        )
    return names


def ensure_can_export(user: User) -> None:
    if user.role not in EXPORTERS:
        raise Forbidden(N_("Your role may not export leads."))


def neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: prefix such text with a quote."""
    if value[:1] in FORMULA_FIRST and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _text(value: str | None) -> str | None:
    return neutralise(value) if value else value


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _converted(
    batch: list[tuple[Any, ...]], columns: Sequence[str], *, spreadsheet: bool
) -> Iterator[tuple[Any, ...]]:
    """A batch with times as ISO 8601 text and, for a spreadsheet, formula-like text quoted.

    Column by column: a text column is checked in one regular-expression pass over its joined
    values, and only a column with a formula-like value is converted value by value.
    """
    if not batch:
        return iter(())
    cells: list[Any] = list(zip(*batch, strict=True))
    for i, name in enumerate(columns):
        if name in TIME_COLUMNS:
            cells[i] = map(_time, cells[i])
        elif (
            spreadsheet
            and name not in AS_IS_COLUMNS
            and FORMULA_LIKE.search("\x00".join(filter(None, cells[i])))
        ):
            cells[i] = map(_text, cells[i])
    return zip(*cells, strict=True)


def batches(
    session: Session,
    *,
    user: User,
    filters: LeadFilter,
    columns: Sequence[str],
    batch_size: int = BATCH_SIZE,
    between_batches: Callable[[], None] | None = None,
    on_ids: Callable[[list[int]], None] | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """The chosen columns of every lead matching the filter, read by id in keyset batches.

    Only the chosen columns are read, `batch_size` rows at a time from the desk's scoped query,
    so memory stays flat however many leads match. `between_batches` lets the caller end its read
    transaction (on SQLite a transaction holds the write lock; a long export must not).
    """
    read = [COLUMNS[name] for name in columns if COLUMNS[name] is not None]
    base = filtered(user, filters.model_copy(update={"cursor": None})).with_only_columns(
        Lead.id, *read
    )
    if "distributor" in columns:
        base = base.outerjoin(Distributor, Distributor.id == Lead.distributor_id)
    if "assignee" in columns:
        base = base.outerjoin(_assignee, _assignee.id == Lead.assignee_id)
    tags_at = columns.index("tags") + 1 if "tags" in columns else None
    last_id = 0
    while True:
        stmt = base.where(Lead.id > last_id).order_by(Lead.id).limit(batch_size)
        batch = session.connection().execute(stmt).all()
        if not batch:
            return
        last_id = batch[-1][0]
        if tags_at is None:
            found = [tuple(row[1:]) for row in batch]
        else:
            tags = _tags_of(session, first=batch[0][0], last=last_id)
            found = [
                (*row[1:tags_at], ", ".join(tags.get(row[0], ())), *row[tags_at:]) for row in batch
            ]
        if on_ids is not None:  # who read what (privacy): the batch's ids, before its commit
            on_ids([row[0] for row in batch])
        if between_batches is not None:
            between_batches()
        yield found
        if len(batch) < batch_size:
            return


def rows(session: Session, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
    """Every row of batches(), one at a time."""
    for batch in batches(session, **kwargs):
        yield from batch


def _tags_of(session: Session, *, first: int, last: int) -> dict[int, list[str]]:
    """Tag names of the leads with ids in [first, last], in one range read of lead_tag's key.

    A range, not `IN (2,000 ids)`: one bound pair instead of thousands of parameters. Leads in
    the range that are not in the batch cost a few index entries and are never looked up.
    """
    stmt = (
        select(lead_tag.c.lead_id, Tag.name)
        .join(Tag, Tag.id == lead_tag.c.tag_id)
        .where(lead_tag.c.lead_id.between(first, last))
        .order_by(lead_tag.c.lead_id, Tag.name)
    )
    found: dict[int, list[str]] = {}
    for lead_id, name in session.connection().execute(stmt):
        found.setdefault(lead_id, []).append(name)
    return found


def _csv(columns: Sequence[str], data: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    for batch in data:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_converted(batch, columns, spreadsheet=True))
        yield buffer.getvalue().encode()


def _jsonl(columns: Sequence[str], data: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for batch in data:
        lines = [
            encode(dict(zip(columns, row, strict=True)))
            for row in _converted(batch, columns, spreadsheet=False)
        ]
        yield ("\n".join(lines) + "\n").encode()


def _xlsx(columns: Sequence[str], data: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    """Rows go to a temporary workbook in constant-memory mode, which is then streamed and removed.

    XLSX is a zip whose parts are finished only at the end, so nothing can be sent before.
    """
    handle, path = tempfile.mkstemp(prefix="leadhub-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path,
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        sheet = workbook.add_worksheet("leads")
        for col, name in enumerate(columns):
            sheet.write_string(0, col, name)
        row_number = 0
        numbers = [name in NUMBER_COLUMNS for name in columns]
        for batch in data:
            for row in _converted(batch, columns, spreadsheet=True):
                row_number += 1
                for col, value in enumerate(row):
                    if value is None:
                        continue
                    if numbers[col]:
                        sheet.write_number(row_number, col, value)
                    else:
                        sheet.write_string(row_number, col, str(value))
        workbook.close()
        with open(path, "rb") as stream:
            while chunk := stream.read(XLSX_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


WRITERS = {"csv": _csv, "jsonl": _jsonl, "xlsx": _xlsx}


def stream(
    session: Session,
    *,
    user: User,
    filters: LeadFilter,
    columns: Sequence[str],
    fmt: str,
    batch_size: int | None = None,
    between_batches: Callable[[], None] | None = None,
) -> Iterator[bytes]:
    """The export file's bytes; at its end (or when the download stops) one audit record."""
    ensure_can_export(user)
    count = 0

    def counted() -> Iterator[list[tuple[Any, ...]]]:
        nonlocal count
        for batch in batches(
            session,
            user=user,
            filters=filters,
            columns=columns,
            batch_size=batch_size or BATCH_SIZE,
            between_batches=between_batches,
            on_ids=access.export_recorder(session, user=user),
        ):
            count += len(batch)
            yield batch

    complete = False
    try:
        yield from WRITERS[fmt](columns, counted())
        complete = True
    finally:
        audit.record(
            session,
            actor=user,
            action="lead.export",
            object_type="lead",
            object_id=None,
            after={
                "format": fmt,
                "columns": list(columns),
                "filter": filters.without_paging(),
                "rows": count,
                "complete": complete,
            },
        )


def filename(fmt: str, now: datetime) -> str:
    return f"leads-{now:%Y%m%d-%H%M%S}.{fmt}"
