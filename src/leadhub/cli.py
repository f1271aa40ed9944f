"""The `leadhub` command: serve, migrate, and manage distributors, users and API keys."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from pydantic import ValidationError

from leadhub.config import ConfigError


def _app(*, realtime: bool = False) -> Any:
    """The app; only `serve` serves Socket.IO (one-off commands start no publisher thread)."""
    from leadhub.app import create_app

    try:
        return create_app({"REALTIME": realtime})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _fail_on_domain_errors(func: Any) -> Any:
    """Turn a service's refusal into a one-line message and exit code 1."""
    from functools import wraps

    from leadhub.errors import DomainError

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise click.ClickException(problems) from exc

    return wrapper


def _distributor_id(session: Any, name: str | None) -> int | None:
    """The id of the distributor with this name (None for no name); a clear error otherwise."""
    if not name:
        return None
    from leadhub.distributors import service as distributors

    distributor = distributors.find_by_name(session, name)
    if distributor is None:
        raise click.ClickException(f"No distributor named {name!r}.")
    return distributor.id


@click.group(help="LeadHub: the lead desk of a medical-tourism clinic network.")
def main() -> None:
    pass


@main.command(help="Serve LeadHub on http://HOST:PORT (PORT defaults to $PORT or 5000).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Defaults to $PORT, else 5000.")
@click.option("--debug/--no-debug", default=False, help="Reload on code changes.")
def serve(host: str, port: int | None, debug: bool) -> None:
    app = _app(realtime=True)
    from leadhub.migrate import upgrade

    upgrade(app.config["DATABASE_URL"])
    port = port or app.config["PORT"]
    click.echo(
        f"LeadHub on http://{host}:{port} (database: {_safe_url(app.config['DATABASE_URL'])})"
    )
    from leadhub import queue

    if not app.config["REDIS_URL"]:  # embedded default: jobs run in this process
        queue.start_embedded()
    from leadhub import realtime

    try:
        # Werkzeug's threaded server, wrapped by Socket.IO: WebSocket and long-polling both work.
        realtime.server_of(app).run(
            app, host=host, port=port, debug=debug, use_reloader=debug, allow_unsafe_werkzeug=True
        )
    finally:
        queue.stop_embedded()
        realtime.shutdown()


@main.command(help="Run background jobs from the queue (production: with REDIS_URL set).")
@click.option("--workers", default=4, show_default=True, help="Job threads in this process.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the periodic schedule; exactly one worker in a cluster should.",
)
def worker(workers: int, periodic: bool) -> None:
    app = _app()
    from leadhub import queue

    if queue.huey.immediate:
        raise click.ClickException("The job queue is in immediate mode (tests); nothing to run.")
    if not app.config["REDIS_URL"]:
        click.echo(
            "No REDIS_URL: working the embedded SQLite queue in instance/jobs.db. Do not "
            "run this beside `leadhub serve`, which already does."
        )
    from leadhub import realtime

    realtime.init_worker(app)  # with REDIS_URL, the jobs' lead events reach every web client
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic)
    try:
        consumer.run()
    finally:
        realtime.shutdown()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group(help="Database schema commands.")
def db() -> None:
    pass


@db.command("upgrade", help="Bring the database schema up to date (safe to run again).")
def db_upgrade() -> None:
    from leadhub.config import load
    from leadhub.migrate import upgrade

    try:
        url = load()["DATABASE_URL"]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    upgrade(url)
    click.echo(f"Database is up to date: {_safe_url(url)}")


@main.command("create-distributor", help="Add a distributor (a partner agency).")
@click.argument("name")
@click.option("--country", help="Two-letter country code, e.g. TR.")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "tr", "ar"]))
@_fail_on_domain_errors
def create_distributor(name: str, country: str | None, language: str) -> None:
    from leadhub.distributors import service
    from leadhub.distributors.schemas import DistributorCreate
    from leadhub.extensions import db as database

    with _app().app_context():
        data = DistributorCreate(name=name, country=country, language=language)
        with database.transaction() as session:
            distributor = service.create(session, data=data, actor=None)
        click.echo(f"Distributor {distributor.id}: {distributor.name}")


@main.command("create-user", help="Add a user who can sign in. Asks for the password twice.")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["superadmin", "admin", "manager", "agent", "viewer"]),
)
@click.option("--name", help="Defaults to the part of the email before @.")
@click.option("--distributor", "distributor_name", help="Distributor name (managers, agents).")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "tr", "ar"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_fail_on_domain_errors
def create_user(
    email: str,
    role: str,
    name: str | None,
    distributor_name: str | None,
    language: str,
    password_stdin: bool,
) -> None:
    from leadhub.auth import service
    from leadhub.auth.schemas import UserCreate
    from leadhub.extensions import db as database

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _app().app_context():
        with database.transaction() as session:
            distributor_id = _distributor_id(session, distributor_name)
            data = UserCreate(
                email=email,
                name=name or email.split("@")[0],
                role=role,
                distributor_id=distributor_id,
                language=language,
                password=password,
            )
            user = service.create(session, data=data, actor=None)
        click.echo(f"User {user.id}: {user.email} ({user.role.value})")


@main.command("create-api-key", help="Make an API key for a user and print it (shown only once).")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the key is for.")
@_fail_on_domain_errors
def create_api_key(email: str, name: str) -> None:
    from leadhub.auth import service
    from leadhub.extensions import db as database

    with _app().app_context():
        with database.transaction() as session:
            user = service.find_by_email(session, email)
            if user is None:
                raise click.ClickException(f"No user with email {email}.")
            key = service.create_api_key(session, user=user, name=name, actor=None)
        click.echo(key)


@main.group(help="Meta Lead Ads: connect Pages, simulate Meta.")
def meta() -> None:
    pass


@meta.command(
    "connect-page",
    help="Connect a distributor's Facebook Page with a Page access "
    "token (read from standard input). Checks it with Meta, subscribes the app to the "
    "Page's leadgen field and reads its lead forms.",
)
@click.option("--distributor", "distributor_name", required=True, help="Distributor name.")
@click.option("--page-id", required=True, help="The Facebook Page id.")
@click.option(
    "--token-stdin",
    is_flag=True,
    required=True,
    help="Read the Page access token from standard input (never an argument).",
)
@_fail_on_domain_errors
def connect_page(distributor_name: str, page_id: str, token_stdin: bool) -> None:
    from leadhub.distributors import service as distributors
    from leadhub.extensions import db as database
    from leadhub.meta import graph as graph_errors
    from leadhub.meta import service

    token = sys.stdin.readline().strip()
    if not token:
        raise click.ClickException("No token on standard input.")
    app = _app()
    with app.app_context(), database.transaction() as session:
        distributor = distributors.find_by_name(session, distributor_name)
        if distributor is None:
            raise click.ClickException(f"No distributor named {distributor_name!r}.")
        graph = service.graph_client(session, app.config)
        try:
            connection = service.connect_page(
                session,
                distributor=distributor,
                page_id=page_id,
                token=token,
                actor=None,
                graph=graph,
            )
        except graph_errors.GraphError as exc:
            raise click.ClickException(f"Meta refused: {exc}") from exc
        finally:
            graph.close()
        forms = [f.name or f.form_id for f in connection.forms]
    click.echo(
        f"Connected Page {connection.page_name} ({page_id}) to {distributor_name}; "
        f"subscribed: {'yes' if connection.subscribed else 'no'}; "
        f"forms: {', '.join(forms) or 'none'}"
    )


@meta.command(
    help="Read the last days of leads of every connected form from Meta (default and "
    "at most 90 days). Safe to stop and run again: leads already here are skipped."
)
@click.option("--distributor", "distributor_name", help="Only this distributor's Pages.")
@click.option(
    "--since",
    "days",
    type=click.IntRange(1, 90),
    default=90,
    show_default=True,
    help="How many days back.",
)
@_fail_on_domain_errors
def backfill(distributor_name: str | None, days: int) -> None:
    from datetime import timedelta

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from leadhub.db import utcnow
    from leadhub.extensions import db as database
    from leadhub.meta import graph as graph_errors
    from leadhub.meta import service
    from leadhub.meta.models import InboxSource

    app = _app()
    since = int((utcnow() - timedelta(days=days)).timestamp())
    totals = service.SyncResult()
    with app.app_context(), database.transaction() as session:
        distributor_id = _distributor_id(session, distributor_name)
        forms = service.active_forms(session, distributor_id=distributor_id)
        if not forms:
            raise click.ClickException("No active lead form: connect a Page first.")
        graph = service.graph_client(session, app.config)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            with Progress(*columns, transient=False) as progress:
                for form in forms:
                    task = progress.add_task(f"{form.name or form.form_id}", total=None)
                    result = service.sync_form(
                        session,
                        form=form,
                        graph=graph,
                        since=since,
                        source=InboxSource.BACKFILL,
                        progress=lambda n, task=task: progress.advance(task, n),
                    )
                    session.commit()
                    for field in ("seen", "created", "failed"):
                        setattr(totals, field, getattr(totals, field) + getattr(result, field))
        except graph_errors.GraphError as exc:
            raise click.ClickException(f"Meta refused: {exc}; run it again to go on") from exc
        finally:
            graph.close()
    click.echo(
        f"Read {totals.seen} leads from {len(forms)} forms: {totals.created} new, "
        f"{totals.seen - totals.created - totals.failed} already here, "
        f"{totals.failed} kept as failed deliveries."
    )


def _register_simulator() -> None:
    from leadhub.simulator.cli import simulate

    meta.add_command(simulate, name="simulate")


_register_simulator()


@main.command(
    help="Check this installation: database, migrations, queue, Redis, SMTP, Meta app and "
    "Pages, webhooks, failed deliveries, secrets, clock, disk. Exits with 1 when a check fails."
)
def doctor() -> None:
    from leadhub.ops import doctor as checks

    app = _app()
    from leadhub.extensions import db as database

    failures = 0
    with app.app_context():
        for check in checks.run(database.session, app.config):
            click.echo(f"{check.label}  {check.name}: {check.detail}")
            if not check.ok:
                failures += 1
                click.echo(f"      fix: {check.fix}")
        database.session.remove()
    if failures:
        click.echo(f"{failures} check(s) failed.")
        sys.exit(1)
    click.echo("All checks passed.")


@main.command(
    help="Write the API reference (Markdown) from the OpenAPI document; run it after changing "
    "an API route or schema."
)
@click.option(
    "--output",
    default="docs/api-reference.md",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True),
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also save the JSON.")
def openapi(output: str, json_path: str | None) -> None:
    import json
    from pathlib import Path

    from leadhub.ops import api_reference

    try:
        spec = api_reference.current_spec()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    Path(output).write_text(api_reference.render(spec), encoding="utf-8")
    if json_path:
        Path(json_path).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    operations = sum(len(item) for item in spec.get("paths", {}).values())
    click.echo(f"Wrote {output}: {operations} operations.")


@main.command(
    "rotate-key",
    help="Re-encrypt the stored secrets (Page tokens, the Meta app secret) with the first key of "
    "LEADHUB_ENCRYPTION_KEY. Set it to NEW,OLD and restart first; afterwards to NEW alone.",
)
def rotate_key() -> None:
    from leadhub.extensions import db as database
    from leadhub.ops import rotate

    app = _app()
    with app.app_context():
        session = database.session()
        try:
            report = rotate.rotate_all(
                session,
                progress=lambda done: click.echo(
                    f"{done.table}.{done.column}: {done.values} re-encrypted"
                ),
            )
        except ValueError as exc:
            session.rollback()
            raise click.ClickException(
                f"{exc}. Put the key they were written with after the new one: "
                "LEADHUB_ENCRYPTION_KEY=NEW,OLD"
            ) from exc
        finally:
            database.session.remove()
    total = sum(done.values for done in report)
    click.echo(
        f"{total} secrets now use the first key. Set LEADHUB_ENCRYPTION_KEY to that key alone "
        "and restart every process."
    )


def _register_scoring() -> None:
    from leadhub.scoring.cli import scoring

    main.add_command(scoring)


def _register_analytics() -> None:
    from leadhub.analytics.cli import analytics, report

    main.add_command(report)
    main.add_command(analytics)


_register_scoring()
_register_analytics()

if __name__ == "__main__":
    main()
