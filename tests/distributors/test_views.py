"""Distributors managed on a page."""

from __future__ import annotations

from sqlalchemy import select

from leadhub.distributors.models import Distributor
from tests.conftest import csrf_token


def test_admin_adds_and_edits_a_distributor(client, login_as, db_session):
    login_as("admin")
    response = client.post(
        "/settings/distributors/",
        data={
            "name": "Antalya Hair",
            "country": "tr",
            "language": "tr",
            "agents_see_unassigned": "on",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    distributor = db_session.scalars(
        select(Distributor).where(Distributor.name == "Antalya Hair")
    ).one()
    assert distributor.country == "TR" and distributor.agents_see_unassigned
    assert "Antalya Hair" in client.get("/settings/distributors/").get_data(as_text=True)
    response = client.post(
        f"/settings/distributors/{distributor.id}",
        data={
            "name": "Antalya Hair Clinic",
            "country": "TR",
            "language": "en",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    db_session.expire_all()
    distributor = db_session.get(Distributor, distributor.id)
    assert distributor.name == "Antalya Hair Clinic"
    assert not distributor.active and not distributor.agents_see_unassigned


def test_duplicate_names_and_bad_countries_are_refused(client, login_as, distributor):
    login_as("admin")
    for data in (
        {"name": distributor.name, "language": "en"},
        {"name": "Fine", "country": "T1", "language": "en"},
    ):
        client.post("/settings/distributors/", data={**data, "csrf_token": csrf_token(client)})
        assert "alert-danger" in client.get("/settings/distributors/").get_data(as_text=True)


def test_a_manager_cannot_manage_distributors(client, login_as, distributor):
    login_as("manager")
    response = client.post(
        f"/settings/distributors/{distributor.id}",
        data={"name": "Hijacked", "language": "en", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 403
