"""`leadhub meta simulate`: a local Meta that serves the Graph API and sends lead webhooks."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from werkzeug.serving import BaseWSGIServer, make_server

from leadhub.simulator.faults import Faults
from leadhub.simulator.server import create_app
from leadhub.simulator.webhooks import Delivery, WebhookSender, handshake
from leadhub.simulator.world import World

DEFAULT_APP_ID = "1122334455667788"
DEFAULT_APP_SECRET = "simulator_app_secret"  # noqa: S105 - a simulator's public test secret

HELP = """Run a local stand-in for Meta's Lead Ads: a Graph API server and a webhook sender.

\b
The Graph API is served at http://HOST:PORT/VERSION/... with Pages, lead forms in
Turkish, Arabic and English, ads and leads. Point LeadHub at it with the
META_GRAPH_URL / META_GRAPH_VERSION / META_APP_ID / META_APP_SECRET lines printed at start.
Every Graph call needs a Page token (printed) and, because the app secret is set,
appsecret_proof = hex HMAC-SHA256(token, app secret), as Meta requires.

\b
New leads appear at --rate per second. With --webhook-url (LeadHub's
/api/v1/meta/webhook) each one is also announced there in a signed `page`/`leadgen`
delivery (X-Hub-Signature-256), retried on non-200 answers like Meta does.
The server keeps running after --count leads (so LeadHub can fetch them) until Ctrl-C,
unless --exit-when-done is given. All names, numbers and tokens are fake.
"""


@click.command("simulate", help=HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface for the Graph API.")
@click.option("--port", default=8089, show_default=True, help="Graph API port (0: any free one).")
@click.option("--graph-version", default="v27.0", show_default=True, help="Version path served.")
@click.option("--app-id", default=DEFAULT_APP_ID, show_default=True, help="The Meta app's id.")
@click.option(
    "--app-secret",
    default=DEFAULT_APP_SECRET,
    show_default=True,
    help="Signs webhooks and checks appsecret_proof; LeadHub's META_APP_SECRET must match.",
)
@click.option(
    "--pages",
    default=2,
    show_default=True,
    type=click.IntRange(1),
    help="Facebook Pages (clinics).",
)
@click.option(
    "--forms-per-page", default=2, show_default=True, type=click.IntRange(1), help="Forms per Page."
)
@click.option(
    "--backlog",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Leads already on each form at start, spread over the past week.",
)
@click.option("--seed", default=0, show_default=True, help="Same seed, same ids, names, tokens.")
@click.option(
    "--webhook-url",
    default=None,
    help="Where to POST webhooks, e.g. LeadHub's "
    "http://127.0.0.1:5000/api/v1/meta/webhook. Without it, no webhooks are sent.",
)
@click.option("--verify-token", default=None, help="Do Meta's GET handshake with it first.")
@click.option(
    "--rate",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="New leads per second (0: none).",
)
@click.option(
    "--count",
    default=None,
    type=click.IntRange(0),
    help="Stop making leads after this many [default: until Ctrl-C].",
)
@click.option(
    "--batch-size",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Leads announced per webhook delivery at most.",
)
@click.option(
    "--duplicate-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of webhook deliveries sent twice, as Meta's retries do.",
)
@click.option("--out-of-order", is_flag=True, help="Shuffle the changes inside each delivery.")
@click.option(
    "--fail-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of Graph API calls answered with a Meta 500/503 error.",
)
@click.option(
    "--latency-ms",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Delay added to every Graph API call.",
)
@click.option(
    "--oddity-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of leads with a missing field, a 2,000-character answer, emoji "
    "or an unparseable phone.",
)
@click.option("--numeric-ids", is_flag=True, help="Write webhook ids as numbers, as Meta's doc.")
@click.option("--exit-when-done", is_flag=True, help="Stop once --count leads are out.")
@click.option("--log-requests", is_flag=True, help="Log every Graph API request.")
def simulate(**options: Any) -> None:
    console = Console(highlight=False)
    world = World.seed_default(
        options["pages"],
        options["forms_per_page"],
        leads_per_form=options["backlog"],
        app_id=options["app_id"],
        app_secret=options["app_secret"],
        seed=options["seed"],
        oddity_rate=options["oddity_rate"],
    )
    faults = Faults(world, seed=options["seed"])
    faults.latency_ms, faults.fail_rate = options["latency_ms"], options["fail_rate"]
    faults.duplicate_rate, faults.out_of_order = options["duplicate_rate"], options["out_of_order"]
    logging.getLogger("werkzeug").setLevel(
        logging.INFO if options["log_requests"] else logging.ERROR
    )
    app = create_app(world, version=options["graph_version"], faults=faults)
    server = make_server(options["host"], options["port"], app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="graph-api", daemon=True)
    serving.start()
    stop = threading.Event()
    sender = None
    previous_term = _interrupt_on_sigterm()
    try:
        _show_world(console, world, server, options)
        if options["webhook_url"]:
            sender = WebhookSender(
                world,
                options["webhook_url"],
                faults=faults,
                batch_size=options["batch_size"],
                numeric_ids=options["numeric_ids"],
            )
            _send(console, sender, options, stop)
        elif options["rate"] and options["count"] != 0:
            _make_leads(console, world, options, stop)
        if not options["exit_when_done"]:
            console.print("[bold]Serving the Graph API. Ctrl-C to stop.[/]")
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        stop.set()
        console.print("\nStopping.")
    finally:
        server.shutdown()
        serving.join(timeout=5)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if sender:
            sender.close()
            console.print(f"Webhooks: {sender.stats.summary()}")


def _interrupt_on_sigterm() -> Any:
    """Let `kill` stop the simulator as cleanly as Ctrl-C; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _show_world(console: Console, world: World, server: BaseWSGIServer, options: dict) -> None:
    host = "127.0.0.1" if options["host"] in ("0.0.0.0", "") else options["host"]  # noqa: S104
    graph_url = f"http://{host}:{server.server_port}"
    console.print(f"[bold]Meta simulator[/] Graph API on {graph_url}/{options['graph_version']}/")
    console.print("Put these in LeadHub's environment:")
    for line in (
        f"META_GRAPH_URL={graph_url}",
        f"META_GRAPH_VERSION={options['graph_version']}",
        f"META_APP_ID={world.app_id}",
        f"META_APP_SECRET={world.app_secret}",
    ):
        console.print(f"  {line}", soft_wrap=True)
    table = Table(title="Pages and lead forms")
    table.add_column("Page")
    table.add_column("Page id", no_wrap=True, min_width=15)
    table.add_column("Form id", no_wrap=True, min_width=15)
    table.add_column("Locale", no_wrap=True)
    table.add_column("Form")
    for page in world.pages():
        for form in world.forms(page.id):
            table.add_row(page.name, page.id, form.id, form.locale, form.name)
    console.print(table)
    console.print("Page access tokens (fake, never expire unless a fault says so):")
    for page in world.pages():
        console.print(f"  {page.id} {page.access_token}", soft_wrap=True)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _send(console: Console, sender: WebhookSender, options: dict, stop: threading.Event) -> None:
    if options["verify_token"]:
        ok = handshake(options["webhook_url"], options["verify_token"])
        console.print(
            f"Webhook handshake: {'[green]echoed the challenge[/]' if ok else '[red]failed[/]'}"
        )
    with _progress(console) as progress:
        task = progress.add_task("Leads announced", total=options["count"], status="")

        def shown(delivery: Delivery) -> None:
            stats = sender.stats
            status = (
                f"acked {stats.acknowledged} failed {stats.failed} duplicates {stats.duplicates}"
                f" retries {stats.retries} p95 {stats.latency(95) * 1000:.0f} ms"
            )
            advance = 0 if delivery.duplicate else len(delivery.lead_ids)
            progress.update(task, advance=advance, status=status)

        sender.run(
            rate=options["rate"] or None,
            count=options["count"],
            stop=stop,
            on_delivery=shown,
        )


def _make_leads(console: Console, world: World, options: dict, stop: threading.Event) -> None:
    """New leads for LeadHub to poll, without webhooks."""
    count, rate = options["count"], options["rate"]
    with _progress(console) as progress:
        task = progress.add_task("Leads created", total=count, status="(no --webhook-url)")
        started, made = time.monotonic(), 0
        while not stop.is_set() and (count is None or made < count):
            due = started + made / rate
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            lead = world.add_leads(1)[0]
            made += 1
            progress.update(task, advance=1, status=f"last {lead.id} on form {lead.form_id}")
