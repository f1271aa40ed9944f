"""Anonymise leads: personal values out of the lead and of every row that copied them.

The lead row stays (status, score, treatment, times, distributor, campaign), so counts and
analytics stay true. Set-based statements per chunk of leads; rows that may hold copies of a
person's values (audit before/after, inbox payloads, the outbox, any table with a `lead_id`)
are read by their lead index and cleaned of exactly those values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, insert, literal, select, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from leadhub.audit.models import AuditEvent
from leadhub.db import Base, among, utcnow
from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead, LeadSearchTerm
from leadhub.meta.models import InboxStatus, WebhookEvent
from leadhub.privacy.models import (
    AnonymisedCause,
    AnonymisedLead,
    ErasedMetaLead,
    ErasureRequest,
    LeadConsent,
)

CHUNK = 500
ERASED = "[erased]"
MIN_TOKEN = 3  # shorter values ("ja", "1") are not looked for inside other text
# Keys of audit snapshots that hold a person's values: dropped, whatever they contain.
PERSONAL_KEYS = frozenset(
    {"full_name", "email", "phone", "city", "answers", "consent", "intake_warnings", "body"}
)
# Tables this module cleans on purpose; every other table with a lead_id is cleaned by value.
HANDLED = frozenset(
    {
        "lead",
        "interaction",
        "audit_event",
        "webhook_event",
        "lead_search_term",
        "lead_consent",
        "access_record_lead",
        "anonymised_lead",
        "erased_meta_lead",
    }
)
LEAD_FREE_TEXT = ("lost_reason", "score_breakdown")
_key_cache: dict[str, bytes] = {}
_configured: list[str] = []  # the app's LEADHUB_ENCRYPTION_KEY, for callers without an app context
# Answers that are an option's key ("hair_transplant", "2_weeks", "yes") are not personal words.
OPTION_KEY = re.compile(r"[a-z0-9_]+")


# What a person's leads hold of them: read before they are replaced (tokens_of reads these rows).
PERSON_COLUMNS = (
    Lead.id,
    Lead.full_name,
    Lead.email,
    Lead.phone,
    Lead.city,
    Lead.meta_lead_id,
    Lead.answers,
    Lead.intake_warnings,
)


def configure(encryption_key: str) -> None:
    """Remember the key erased Meta ids are hashed with (create_app, via the blueprint)."""
    _configured[:] = [encryption_key]


def _hash_key() -> bytes:
    """A key for hashing erased Meta ids, derived from LEADHUB_ENCRYPTION_KEY (never stored)."""
    from flask import current_app, has_app_context

    if has_app_context():
        secret = current_app.config["LEADHUB_ENCRYPTION_KEY"]
    elif _configured:
        secret = _configured[0]
    else:
        raise RuntimeError("leadhub.privacy is not configured; create_app() does it")
    if secret not in _key_cache:
        _key_cache[secret] = hmac.new(
            secret.encode(), b"leadhub:erased-meta-lead-id", hashlib.sha256
        ).digest()
    return _key_cache[secret]


def meta_hash(meta_lead_id: str) -> str:
    """HMAC-SHA256 of a Meta lead id: the same id always gives the same hash; it cannot be read."""
    return hmac.new(_hash_key(), meta_lead_id.encode(), hashlib.sha256).hexdigest()


def inbox_id(lead_hash: str) -> Any:
    """What an erased lead's inbox rows keep in place of its Meta id: part of the hash and the
    row's own id (unique however often Meta sends the id again; at most 32 characters)."""
    return literal("e:" + lead_hash[:16] + ":") + cast(WebhookEvent.id, String)


def erased_leads(session: Session, meta_lead_ids: set[str]) -> dict[str, Lead]:
    """The anonymous rows of erased leads among these Meta ids: one indexed lookup.

    Intake treats them as known leads, so a poll, backfill or webhook of an erased person
    stores nothing; the inbox row that brought the id keeps only its hash.
    """
    if not meta_lead_ids:
        return {}
    hashes = {meta_hash(i): i for i in meta_lead_ids}
    rows = session.execute(
        select(ErasedMetaLead.lead_hash, ErasedMetaLead.lead_id).where(
            among(session, ErasedMetaLead.lead_hash, sorted(hashes)),
            ErasedMetaLead.lead_id.is_not(None),
        )
    ).all()
    if not rows:
        return {}
    leads = {
        lead.id: lead
        for lead in session.scalars(select(Lead).where(Lead.id.in_([r[1] for r in rows])))
    }
    for lead_hash, _lead_id in rows:
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.leadgen_id == hashes[lead_hash])
            .values(leadgen_id=inbox_id(lead_hash), change={}, payload=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
    return {hashes[h]: leads[lead_id] for h, lead_id in rows if lead_id in leads}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def tokens_of(rows: Sequence[Any], bodies: Iterable[str | None]) -> set[str]:
    """Every personal value of these leads worth looking for in other rows."""
    found: set[str] = set()
    for row in rows:
        for value in (row.full_name, row.email, row.phone, row.city, row.meta_lead_id):
            if value:
                found.add(value)
        found.update(part for part in (row.full_name or "").split() if len(part) >= MIN_TOKEN)
        if row.phone:
            found.add(row.phone.lstrip("+"))
        for value in (*_strings(row.answers), *_strings(row.intake_warnings)):
            if not OPTION_KEY.fullmatch(value):
                found.add(value)
    found.update(body for body in bodies if body)
    return {t.strip() for t in found if len(t.strip()) >= MIN_TOKEN}


def pattern_of(tokens: set[str]) -> re.Pattern[str] | None:
    if not tokens:
        return None
    ordered = sorted(tokens, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def scrub(value: Any, pattern: re.Pattern[str] | None, *, drop_keys: bool = False) -> Any:
    """`value` with every personal value replaced; snapshot keys of personal fields dropped."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value) if pattern is not None else value
    if isinstance(value, dict):
        return {
            key: scrub(item, pattern, drop_keys=drop_keys)
            for key, item in value.items()
            if not (drop_keys and key in PERSONAL_KEYS)
        }
    if isinstance(value, list):
        return [scrub(item, pattern, drop_keys=drop_keys) for item in value]
    return value


def _text_columns(table: Table) -> list[str]:
    """Columns that can hold a person's words: text and JSON, not enums."""
    return [
        column.name
        for column in table.columns
        if not column.primary_key
        and not column.foreign_keys
        and not isinstance(column.type, SAEnum)
        and isinstance(column.type, String | Text | JSON)
    ]


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def scrub_rows(
    session: Session,
    table: Table,
    where: Any,
    pattern: re.Pattern[str] | None,
    *,
    drop_keys: bool = False,
    only: Sequence[str] | None = None,
) -> int:
    """Clean the text and JSON columns (or `only` these) of the rows matching `where`; writes
    changed rows only."""
    columns = list(only) if only is not None else _text_columns(table)
    keys = list(table.primary_key.columns)
    if not columns or not keys:
        return 0
    json_columns = _json_columns(table)
    changed: list[dict[str, Any]] = []
    for row in session.execute(select(*keys, *(table.c[c] for c in columns)).where(where)):
        values = row._mapping
        new = {
            c: scrub(values[c], pattern, drop_keys=drop_keys and c in json_columns) for c in columns
        }
        diff = {c: v for c, v in new.items() if v != values[c]}
        if diff:
            changed.append((tuple(values[k.name] for k in keys), diff))
    for key, diff in changed:
        condition = [k == v for k, v in zip(keys, key, strict=True)]
        session.execute(update(table).where(*condition).values(**diff))
    return len(changed)


def other_lead_tables() -> list[Table]:
    """Every table with a lead_id not cleaned on purpose here (outbox, notifications, ...)."""
    return [
        table
        for name, table in sorted(Base.metadata.tables.items())
        if name not in HANDLED and "lead_id" in table.c
    ]


def anonymise(
    session: Session,
    *,
    lead_ids: Sequence[int],
    cause: AnonymisedCause,
    erasure_request_id: int | None = None,
) -> int:
    """Remove every personal value of these leads, in chunks; the number of leads touched."""
    session.flush()
    done = 0
    for start in range(0, len(lead_ids), CHUNK):
        chunk = list(lead_ids[start : start + CHUNK])
        done += _anonymise_chunk(session, chunk, cause=cause, erasure_request_id=erasure_request_id)
    return done


def _anonymise_chunk(
    session: Session, ids: list[int], *, cause: AnonymisedCause, erasure_request_id: int | None
) -> int:
    leads = session.execute(select(*PERSON_COLUMNS).where(Lead.id.in_(ids))).all()
    if not leads:
        return 0
    bodies = session.scalars(select(Interaction.body).where(Interaction.lead_id.in_(ids))).all()
    pattern = pattern_of(tokens_of(leads, bodies))
    meta_ids = {row.meta_lead_id: meta_hash(row.meta_lead_id) for row in leads if row.meta_lead_id}
    _keep_hashes(
        session,
        {h: row.id for row in leads if row.meta_lead_id for h in [meta_ids[row.meta_lead_id]]},
    )
    session.execute(
        update(Lead)
        .where(Lead.id.in_(ids))
        .values(
            full_name=None,
            email=None,
            phone=None,
            city=None,
            answers={},
            consent={},
            intake_warnings={},
            meta_lead_id=None,
            version=Lead.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    lead_table = Lead.__table__
    # what is left of the person in the row itself: their words in a reason or a score's params
    scrub_rows(session, lead_table, lead_table.c.id.in_(ids), pattern, only=LEAD_FREE_TEXT)
    session.execute(delete(LeadSearchTerm).where(LeadSearchTerm.lead_id.in_(ids)))
    session.execute(delete(LeadConsent).where(LeadConsent.lead_id.in_(ids)))
    session.execute(
        update(Interaction)
        .where(Interaction.lead_id.in_(ids))
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    audit_table = AuditEvent.__table__
    scrub_rows(
        session,
        audit_table,
        (audit_table.c.object_type == "lead") & audit_table.c.object_id.in_(ids),
        pattern,
        drop_keys=True,
    )
    _scrub_inbox(session, meta_ids)
    for table in other_lead_tables():
        scrub_rows(session, table, table.c.lead_id.in_(ids), pattern, drop_keys=True)
    if cause is AnonymisedCause.ERASURE:
        _scrub_export_filters(session, pattern)
    already = set(
        session.scalars(select(AnonymisedLead.lead_id).where(AnonymisedLead.lead_id.in_(ids)))
    )
    fresh = [row.id for row in leads if row.id not in already]
    if fresh:
        session.execute(
            insert(AnonymisedLead),
            [
                {
                    "lead_id": i,
                    "cause": cause,
                    "erasure_request_id": erasure_request_id,
                    "at": utcnow(),
                }
                for i in fresh
            ],
        )
    _expire_loaded(session)
    return len(leads)


def _keep_hashes(session: Session, hashes: dict[str, int]) -> None:
    if not hashes:
        return
    known = set(
        session.scalars(
            select(ErasedMetaLead.lead_hash).where(ErasedMetaLead.lead_hash.in_(hashes))
        )
    )
    rows = [
        {"lead_hash": h, "lead_id": i, "erased_at": utcnow()}
        for h, i in hashes.items()
        if h not in known
    ]
    if rows:
        session.execute(insert(ErasedMetaLead), rows)


def _scrub_inbox(session: Session, meta_ids: dict[str, str]) -> None:
    """Inbox rows of these leads (by the unique Meta id: an index lookup each) keep their status
    and times; what Meta sent goes, and the id is replaced by part of its hash."""
    for meta_lead_id, lead_hash in meta_ids.items():
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.leadgen_id == meta_lead_id)
            .values(leadgen_id=inbox_id(lead_hash), change={}, payload=None, last_error=None)
            .execution_options(synchronize_session=False)
        )


def scrub_unlinked_inbox(session: Session, pattern: re.Pattern[str] | None) -> int:
    """Deliveries that never became a lead (failed to parse, or waiting) may hold the person's
    answers as Meta sent them: their values go too. Read by status (indexed), never many."""
    table = WebhookEvent.__table__
    return scrub_rows(
        session,
        table,
        table.c.lead_id.is_(None)
        & table.c.status.in_([InboxStatus.FAILED, InboxStatus.PENDING])
        & table.c.payload.is_not(None),
        pattern,
        only=("payload", "change", "last_error"),
    )


def _scrub_export_filters(session: Session, pattern: re.Pattern[str] | None) -> None:
    """A desk search typed into an export's filter may be the person's name or phone."""
    table = AuditEvent.__table__
    scrub_rows(
        session,
        table,
        (table.c.object_type == "lead")
        & table.c.object_id.is_(None)
        & (table.c.action == "lead.export"),
        pattern,
    )


def scrub_request(
    session: Session, *, request: ErasureRequest, pattern: re.Pattern[str] | None
) -> None:
    """An erasure request's reason, and its audit events, without the person's values."""
    if pattern is not None:
        request.reason = pattern.sub(ERASED, request.reason)
    table = AuditEvent.__table__
    session.flush()
    scrub_rows(
        session,
        table,
        (table.c.object_type == "erasure_request") & (table.c.object_id == request.id),
        pattern,
    )


def _expire_loaded(session: Session) -> None:
    """Objects already in the session (all flushed) read the anonymised values when next used."""
    session.expire_all()
