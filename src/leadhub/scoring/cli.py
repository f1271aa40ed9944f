"""`leadhub scoring`: rescore leads by hand, with a progress bar."""

from __future__ import annotations

import click


@click.group(help="Lead scoring: rescore leads with the rule set in force.")
def scoring() -> None:
    pass


@scoring.command(
    help="Rescore the leads not scored by the rule set in force yet (never scored, or by an "
    "older version), in batches, with a progress bar. Safe to stop and run again."
)
@click.option("--all", "everything", is_flag=True, help="Rescore every lead, not only those.")
@click.option("--distributor", "distributor_name", help="Only this distributor's leads.")
def rescore(everything: bool, distributor_name: str | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leadhub.cli import _app, _distributor_id
    from leadhub.errors import DomainError
    from leadhub.extensions import db
    from leadhub.scoring import jobs, service

    with _app().app_context():
        try:
            with db.transaction() as session:
                distributor_id = _distributor_id(session, distributor_name)
                run = service.start_run(
                    session, distributor_id=distributor_id, everything=everything, actor=None
                )
                run_id, version = run.id, run.rule_set_version
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task(f"Rescoring with version {version}", total=None)
            jobs.run_rescore(
                run_id,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        with db.transaction() as session:
            run = service.get_run(session, run_id=run_id)
            if run.error:
                raise click.ClickException(run.error)
            click.echo(f"Rescored {run.done} leads with version {version}: {run.changed} changed.")
