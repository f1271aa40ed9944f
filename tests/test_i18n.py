"""The Turkish and Arabic catalogs: complete, in step with the source, and served by the app."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from markupsafe import escape

from leadhub.auth.models import User
from leadhub.db import db
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "src" / "leadhub" / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = ("tr", "ar")
PLURAL_FORMS = {
    "tr": "nplurals=2; plural=(n != 1);",
    "ar": (
        "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
        "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
    ),
}
# The same methods as babel.cfg, whose patterns are relative to the repository root.
METHOD_MAP = [
    ("src/**.py", "python"),
    ("src/**/templates/**.html", "jinja2"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
FIX = "run `make translations`, then translate the new strings in {po}"


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=language)


def key(message: Message) -> Any:
    """How a catalog indexes a message: its id, or (id, context) with a context."""
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (msgid, message.context) if message.context else msgid


def texts(value: Any) -> list[str]:
    """Singular and plural forms alike, as a list of strings."""
    if isinstance(value, tuple | list):
        return [str(item or "") for item in value]
    return [str(value or "")]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def extracted_keys() -> set[Any]:
    """What `pybabel extract` would find in the source today."""

    def only_src(dirpath: str | os.PathLike[str]) -> bool:
        relative = Path(dirpath).resolve().relative_to(ROOT).parts
        return not relative or relative[0] == "src"

    found: set[Any] = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, METHOD_MAP, keywords=KEYWORDS, directory_filter=only_src
    ):
        msgid = message[0] if isinstance(message, tuple | list) else message
        if msgid:
            found.add((msgid, context) if context else msgid)
    return found


@pytest.fixture(scope="module")
def extracted() -> set[Any]:
    return extracted_keys()


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_header(language: str) -> None:
    catalog = read_catalog(po_path(language), language)
    assert str(catalog.locale) == language
    assert not catalog.fuzzy, f"the header of {po_path(language)} is marked fuzzy"
    assert catalog.plural_forms == PLURAL_FORMS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    path = po_path(language)
    catalog = read_catalog(path, language)
    messages = [message for message in catalog if message.id]
    assert messages, f"{path} has no messages"
    problems = []
    for message in messages:
        msgid = texts(message.id)[0]
        strings = texts(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not all(text.strip() for text in strings):
            problems.append(f"not translated: {msgid!r}")
            continue
        expected = placeholders(" ".join(texts(message.id)))
        for text in strings:
            if placeholders(text) != expected:
                problems.append(
                    f"placeholders differ: {msgid!r} has {sorted(expected)}, "
                    f"{text!r} has {sorted(placeholders(text))}"
                )
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_obsolete_or_untemplated_messages(language: str) -> None:
    template = {key(message) for message in read_catalog(POT) if message.id}
    catalog = {key(message) for message in read_catalog(po_path(language), language) if message.id}
    assert catalog == template, (
        f"{po_path(language)} is out of step with messages.pot: "
        f"missing {sorted(map(str, template - catalog))}, "
        f"extra {sorted(map(str, catalog - template))}; {FIX.format(po=po_path(language))}"
    )


def test_extraction_finds_the_known_strings(extracted: set[Any]) -> None:
    """Guards the check below against an extraction that silently finds nothing."""
    for msgid in ("Sign in to LeadHub", "Leads", "Hot", "%(name)s can now sign in."):
        assert msgid in extracted, f"extraction did not find {msgid!r}; is babel.cfg right?"


def test_template_is_up_to_date(extracted: set[Any]) -> None:
    template = {key(message) for message in read_catalog(POT) if message.id}
    missing = sorted(map(str, extracted - template))
    assert not missing, f"messages.pot lacks {missing}; {FIX.format(po='the .po files')}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_every_source_string(language: str, extracted: set[Any]) -> None:
    path = po_path(language)
    catalog = {key(message) for message in read_catalog(path, language) if message.id}
    missing = sorted(map(str, extracted - catalog))
    assert not missing, f"{path} lacks {missing}; {FIX.format(po=path)}"


# Rendering: the app serves the compiled catalogs (.mo, built by `make setup`).


def translation(language: str, msgid: str) -> str:
    path = mo_path(language)
    assert path.exists() and path.stat().st_mtime >= po_path(language).stat().st_mtime, (
        f"{path} is missing or older than its .po: run `make setup` "
        "(pybabel compile -d src/leadhub/translations -D messages)"
    )
    message = read_catalog(po_path(language), language).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {language}"
    assert message.string != msgid
    return str(message.string)


def shows(page: str, text: str) -> bool:
    """Templates insert translations as they are; Python code's strings arrive escaped."""
    return text in page or str(escape(text)) in page


def fetch(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def choose_language(client: Any, language: str) -> None:
    client.get("/login")
    response = client.post(
        "/language",
        data={"language": language, "next": "/login", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_sign_in_page_in_turkish(client: Any) -> None:
    choose_language(client, "tr")
    page = fetch(client, "/login")
    assert shows(page, translation("tr", "Sign in to LeadHub"))
    assert shows(page, translation("tr", "Password"))
    assert '<html lang="tr" dir="ltr">' in page
    assert "bootstrap.rtl.min.css" not in page
    assert "Sign in to LeadHub" not in page


def test_sign_in_page_in_arabic_reads_right_to_left(client: Any) -> None:
    choose_language(client, "ar")
    page = fetch(client, "/login")
    assert shows(page, translation("ar", "Sign in to LeadHub"))
    assert shows(page, translation("ar", "Password"))
    assert 'dir="rtl"' in page
    assert '<html lang="ar" dir="rtl">' in page
    assert "bootstrap.rtl.min.css" in page
    assert "Sign in to LeadHub" not in page


def test_sign_in_page_stays_english_without_a_choice(client: Any) -> None:
    page = fetch(client, "/login")
    assert "Sign in to LeadHub" in page
    assert 'dir="ltr"' in page


def test_signed_in_user_sees_the_desk_in_their_language(
    client: Any, users: dict[str, User], login_as: Callable[[str | User], User]
) -> None:
    users["admin"].language = "tr"
    db.session.commit()  # requests have sessions of their own; the test still rolls it back
    login_as("admin")
    page = fetch(client, "/leads")
    leads = translation("tr", "Leads")
    assert f"<title>{leads} · LeadHub</title>" in page
    assert f">{leads}</h1>" in page
    assert shows(page, translation("tr", "New lead"))
    assert shows(page, translation("tr", "Sign out"))
    assert '<html lang="tr" dir="ltr">' in page


def test_words_with_two_senses_are_translated_by_their_context(
    client: Any, users: dict[str, User], login_as: Callable[[str | User], User]
) -> None:
    """ "To" ends a date range on the analytics page and names a recipient in the outbox."""
    catalog = read_catalog(po_path("tr"), "tr")
    end, recipient = catalog.get("To", context="range").string, catalog.get("To").string
    assert (end, recipient) == ("Bitiş", "Alıcı")
    assert catalog.get("From", context="access source").string == "Kaynak"
    users["admin"].language = "tr"
    db.session.commit()
    login_as("admin")
    page = fetch(client, "/analytics")
    assert f'<label class="form-label small" for="to">{end}</label>' in page
    assert recipient not in page
