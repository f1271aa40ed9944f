"""The docs stay true: the API reference matches the app, every command shown exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadhub.cli import main
from leadhub.ops import api_reference

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def test_the_api_reference_is_up_to_date(app):
    with app.app_context():
        expected = api_reference.render(app.spec)
    written = (ROOT / "docs" / "api-reference.md").read_text(encoding="utf-8")
    assert written == expected, "docs/api-reference.md is stale: run `leadhub openapi`"


def test_the_reference_covers_every_operation(app):
    with app.app_context():
        spec = app.spec
        text = api_reference.render(spec)
    for path, item in spec["paths"].items():
        for method in item:
            assert f"### `{method.upper()} {path}`" in text


def commands_in(text: str) -> set[tuple[str, ...]]:
    """`leadhub ...` and `make ...` as code in the docs shows them, up to the first option."""
    snippets = FENCE.findall(text) + INLINE.findall(FENCE.sub("", text))
    found = set()
    for snippet in snippets:
        for line in re.split(r"\n|&&|;|\|\|?", snippet):
            try:
                words = shlex.split(line.strip().removeprefix("$ "), posix=True)
            except ValueError:
                continue
            while words and (ENV_ASSIGNMENT.match(words[0]) or words[0] in ("sudo", "exec")):
                words = words[1:]
            if words and words[0].endswith("/leadhub"):
                words[0] = "leadhub"
            if not words or words[0] not in ("leadhub", "make"):
                continue
            command = []
            for word in words:
                if not re.fullmatch(r"[a-z][\w\-]*", word):
                    break
                command.append(word)
            found.add(tuple(command))
    return found


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w\-]*):", makefile, re.MULTILINE))


def leadhub_command_exists(words: tuple[str, ...]) -> bool:
    """True when `leadhub WORDS --help` names a real command (extra words are its arguments)."""
    group = main
    for word in words[1:]:
        commands = getattr(group, "commands", None)
        if commands is None:
            return True  # a leaf command: the rest are its arguments
        if word not in commands:
            return False
        group = commands[word]
    return True


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_the_docs_show_exists(doc):
    targets = make_targets()
    missing = []
    for words in commands_in(doc.read_text(encoding="utf-8")):
        if words[0] == "make" and len(words) > 1 and words[1] not in targets:
            missing.append(" ".join(words))
        if words[0] == "leadhub" and not leadhub_command_exists(words):
            missing.append(" ".join(words))
    assert not missing, f"{doc.name} shows commands that do not exist: {missing}"


def test_the_checker_catches_a_command_that_does_not_exist():
    words = commands_in("Run `leadhub frobnicate --now`, then\n```\n$ make moon\n```\n")
    assert ("leadhub", "frobnicate") in words and ("make", "moon") in words
    assert not leadhub_command_exists(("leadhub", "frobnicate"))
    assert leadhub_command_exists(("leadhub", "meta", "connect-page"))
    assert "moon" not in make_targets()


def test_every_leadhub_command_has_help():
    result = CliRunner().invoke(main, ["openapi", "--help"])
    assert result.exit_code == 0 and "docs/api-reference.md" in result.output
