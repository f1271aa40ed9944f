"""`make demo`: LeadHub and the Meta simulator together, so a newcomer sees leads arrive live.

Everything lives in instance/demo/ (its own SQLite database); nothing leaves this machine.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import click

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo password"  # noqa: S105 - a local demo account, printed on purpose
VERSION = "v27.0"


@click.command(help="Run LeadHub with a simulated Meta that sends new leads every few seconds.")
@click.option("--port", default=5000, show_default=True, help="LeadHub's port.")
@click.option("--graph-port", default=8089, show_default=True, help="The simulator's port.")
@click.option("--rate", default=0.5, show_default=True, help="New leads per second.")
def main(port: int, graph_port: int, rate: float) -> None:
    from werkzeug.serving import make_server

    from leadhub.simulator import WebhookSender, World
    from leadhub.simulator import create_app as create_graph

    world = World.seed_default(pages=2, forms_per_page=2, seed=int(time.time()))
    world.add_leads(10)
    graph = make_server(
        "127.0.0.1", graph_port, create_graph(world, version=VERSION), threaded=True
    )
    threading.Thread(target=graph.serve_forever, daemon=True).start()

    os.environ.setdefault("LEADHUB_INSTANCE_PATH", os.path.abspath("instance/demo"))
    os.environ.update(
        {
            "META_GRAPH_URL": f"http://127.0.0.1:{graph_port}",
            "META_GRAPH_VERSION": VERSION,
            "META_APP_ID": world.app_id,
            "META_APP_SECRET": world.app_secret,
            "META_VERIFY_TOKEN": "demo-verify-token",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    from leadhub import queue
    from leadhub.app import create_app
    from leadhub.extensions import db
    from leadhub.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        _prepare(app, world)
    queue.start_embedded()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    click.echo(
        f"\nLeadHub demo on http://127.0.0.1:{port}  sign in: {DEMO_EMAIL} / "
        f"{DEMO_PASSWORD}\nA simulated Meta sends about {rate} new leads a second. "
        "Ctrl-C stops.\n"
    )
    stop = threading.Event()
    sender = WebhookSender(world, f"http://127.0.0.1:{port}/api/v1/meta/webhook", batch_size=2)
    try:
        sender.run(rate=rate, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.shutdown()
        graph.shutdown()
        queue.stop_embedded()
        db.session.remove()
    sys.exit(0)


def _prepare(app, world) -> None:  # noqa: ANN001
    """A distributor per simulated Page, a superadmin, and each Page connected."""
    from leadhub.auth import service as accounts
    from leadhub.auth.models import Role
    from leadhub.auth.schemas import UserCreate
    from leadhub.distributors import service as distributors
    from leadhub.distributors.schemas import DistributorCreate
    from leadhub.extensions import db
    from leadhub.meta import service as meta

    with db.transaction() as session:
        if accounts.find_by_email(session, DEMO_EMAIL) is None:
            accounts.create(
                session,
                actor=None,
                data=UserCreate(
                    email=DEMO_EMAIL,
                    name="Demo Admin",
                    role=Role.SUPERADMIN,
                    password=DEMO_PASSWORD,
                ),
            )
        graph = meta.graph_client(session, app.config)
        try:
            for number, page in enumerate(world.pages(), start=1):
                name = f"Demo Agency {number}"
                distributor = distributors.find_by_name(session, name) or distributors.create(
                    session,
                    data=DistributorCreate(name=name, country="TR", language="tr"),
                    actor=None,
                )
                meta.connect_page(
                    session,
                    distributor=distributor,
                    page_id=page.id,
                    token=page.access_token,
                    actor=None,
                    graph=graph,
                )
                for form in meta.active_forms(session, distributor_id=distributor.id):
                    meta.sync_form(session, form=form, graph=graph, since=None)
        finally:
            graph.close()


if __name__ == "__main__":
    main()
