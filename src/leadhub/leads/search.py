"""Find a lead by name, email or phone, typed any way, through one prefix index."""

from __future__ import annotations

import contextlib
import re
import unicodedata

import phonenumbers
from sqlalchemy import ColumnElement, Select, func, intersect, select
from sqlalchemy.orm import Session

from leadhub.leads.models import Lead, LeadSearchTerm

MAX_TERM = 64
MIN_WORD = 2
BROAD = 2000  # matches from which a list checks them in its own order (is_broad)
LISTED = 20_000  # at most this many matches are passed to PostgreSQL as a list
_TOP = "\U0010ffff"  # sorts after every other character: "p" <= term < "p" + _TOP is a prefix match
_SPLIT = re.compile(r"[^\w]+", re.UNICODE)
_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})


def fold(text: str) -> str:
    """Lower-case, without accents, dotless i or Arabic letter variants: 'Şahin' -> 'sahin'."""
    text = text.replace("İ", "i").replace("I", "i").replace("ı", "i").casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_ARABIC_FOLD)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def terms_for(*, full_name: str | None, email: str | None, phone: str | None) -> set[str]:
    """The index terms of one lead."""
    terms: set[str] = set()
    if full_name:
        terms.update(word for word in _SPLIT.split(fold(full_name)) if word)
    if email:
        address = email.lower()
        terms.add(address)
        local = address.split("@", 1)[0]
        terms.update(word for word in _SPLIT.split(fold(local)) if len(word) >= MIN_WORD)
    if phone:
        terms.add(_digits(phone))
        with contextlib.suppress(phonenumbers.NumberParseException):
            terms.add(str(phonenumbers.parse(phone).national_number))
    return {term[:MAX_TERM] for term in terms if term}


def _matching(term: str, distributor_id: int | None) -> Select[tuple[int]]:
    terms = select(LeadSearchTerm.lead_id).where(
        LeadSearchTerm.term >= term, LeadSearchTerm.term < term + _TOP
    )
    if distributor_id is not None:
        terms = terms.where(LeadSearchTerm.distributor_id == distributor_id)
    return terms


def _exact(term: str) -> Select[tuple[int]]:
    return select(LeadSearchTerm.lead_id).where(LeadSearchTerm.term == term)


def matching(
    query: str, *, region: str | None = None, distributor_id: int | None = None
) -> Select[tuple[int]] | None:
    """The ids of the leads matching `query`, or None when it holds nothing to search.

    With `distributor_id`, only that distributor's terms are read: a common surname begins
    thousands of terms network-wide but a few hundred in one distributor.
    """
    query = query.strip()[:200]
    if not query:
        return None
    if "@" in query:
        return _matching(query.lower()[:MAX_TERM], distributor_id)
    if _PHONE_CHARS.match(query) and len(_digits(query)) >= 4:
        try:
            number = phonenumbers.parse(query, (region or "TR").upper())
            if phonenumbers.is_valid_number(number):
                return _exact(f"{number.country_code}{number.national_number}")
        except phonenumbers.NumberParseException:
            pass
        return _matching(_digits(query).lstrip("0") or "0", distributor_id)
    words = [w for w in _SPLIT.split(fold(query)) if w]
    if not words:
        return None
    # Words of one or two letters ("Al", the O of O'Brien) begin hundreds of thousands of terms.
    words = [w for w in words if len(w) > MIN_WORD] or words
    if len(words) == 1:
        return _matching(words[0][:MAX_TERM], distributor_id)
    # Intersect the ids first, so that only the leads matching every word are read.
    return select(intersect(*(_matching(w[:MAX_TERM], distributor_id) for w in words)).subquery())


def is_broad(session: Session, ids: Select[tuple[int]]) -> bool:
    """Whether a search matches so many leads that a list should not be read through them."""
    bounded = ids.limit(BROAD).subquery()
    return (session.scalar(select(func.count()).select_from(bounded)) or 0) >= BROAD


def clause(ids: Select[tuple[int]], *, broad: bool = False) -> ColumnElement[bool]:
    """The condition that a lead is among `ids`.

    A few matches are read by id. Many (a common surname) are better checked while the list is
    read in its own index order, which stops at the page's last row; `id + 0` keeps the database
    from reading every match by id instead.
    """
    return (Lead.id + 0).in_(ids) if broad else Lead.id.in_(ids)
