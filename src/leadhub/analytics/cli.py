"""`leadhub report` (and `leadhub analytics report`): write a report file from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from leadhub.analytics.periods import REPORTS
from leadhub.analytics.reports import FORMATS


def _write(
    kind: str,
    fmt: str,
    out: str,
    on: date | None,
    distributor_name: str | None,
    email: str | None,
) -> None:
    from sqlalchemy import select

    from leadhub.analytics.reports import render_report
    from leadhub.auth.models import User
    from leadhub.cli import _app, _distributor_id
    from leadhub.errors import DomainError
    from leadhub.extensions import db

    with _app().app_context():
        session = db.session
        try:
            user = None
            if email:
                user = session.scalar(select(User).where(User.email == email.strip().lower()))
                if user is None:
                    raise click.ClickException(f"No user with the email {email!r}.")
            body = render_report(
                session,
                period=kind,
                fmt=fmt,
                user=user,
                on=on,
                distributor_id=_distributor_id(session, distributor_name),
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        finally:
            session.rollback()
    if out == "-":
        click.get_binary_stream("stdout").write(body)
    else:
        Path(out).write_bytes(body)
        click.echo(f"Wrote {len(body)} bytes to {out}.", err=True)


OPTIONS = (
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True),
    click.option("--out", required=True, help="The file to write; - for standard output."),
    click.option(
        "--date",
        "on",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="A day in the period (default: the last complete day, week or month).",
    ),
    click.option("--distributor", "distributor_name", help="Only this distributor's leads."),
    click.option(
        "--as",
        "email",
        help="In this user's scope, language and time zone (default: the whole clinic).",
    ),
)


def _with_options(command):  # noqa: ANN001, ANN202 - a click decorator chain
    for option in reversed(OPTIONS):
        command = option(command)
    return command


@click.command(help="Write the daily, weekly or monthly report as HTML, JSON, CSV or PDF.")
@click.argument("kind", type=click.Choice(REPORTS))
@_with_options
def report(kind: str, fmt: str, out: str, on, distributor_name, email) -> None:  # noqa: ANN001
    _write(kind, fmt, out, on.date() if on else None, distributor_name, email)


@click.group(help="Analytics: funnel, speed to lead, performance and reports.")
def analytics() -> None:
    pass


@analytics.command(
    "report", help="Write the daily, weekly or monthly report as HTML, JSON, CSV or PDF."
)
@click.option("--period", "kind", type=click.Choice(REPORTS), required=True)
@_with_options
def analytics_report(kind: str, fmt: str, out: str, on, distributor_name, email) -> None:  # noqa: ANN001
    _write(kind, fmt, out, on.date() if on else None, distributor_name, email)
