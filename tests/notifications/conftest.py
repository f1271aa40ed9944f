"""A real SMTP server (aiosmtpd) on 127.0.0.1, and the app pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from leadhub.auth.models import Role
from tests.factories import UserFactory
from tests.meta.conftest import graph, meta_app, page  # noqa: F401 - the Meta fixtures, here too


@dataclass
class Mailbox:
    """What the SMTP server received; `refuse` makes it answer DATA with a temporary error."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp(app: Any, mailbox: Mailbox) -> Iterator[Mailbox]:
    """The app sends through the test's SMTP server while the test runs."""
    before = app.config.get("SMTP_URL")
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"  # type: ignore[attr-defined]
    try:
        yield mailbox
    finally:
        app.config["SMTP_URL"] = before


@pytest.fixture
def app_ctx(app: Any) -> Iterator[Any]:
    with app.app_context():
        yield app


@pytest.fixture
def manager_ar(distributor: Any) -> Any:
    return UserFactory(
        role=Role.MANAGER,
        distributor=distributor,
        name="Amal Arabic",
        language="ar",
        email="amal@example.com",
    )
