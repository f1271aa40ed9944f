"""Signing in and out, throttling, passwords, API keys and user management pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.auth.models import ApiKey, Role, User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, UserFactory


def _login(client, email, password):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def test_sign_in_lands_on_the_desk_and_sets_a_safe_cookie(client, users):
    response = _login(client, users["admin"].email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/leads")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/leads").status_code == 200


def test_sign_in_keeps_where_the_user_was_going_but_never_off_site(client, users):
    client.get("/leads?status=new")
    response = client.post(
        "/login",
        data={
            "email": users["admin"].email,
            "password": PASSWORD,
            "next": "/leads?status=new",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"].endswith("/leads?status=new")
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    response = client.post(
        "/login",
        data={
            "email": users["admin"].email,
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"].endswith("/leads")


def test_wrong_password_is_refused_without_saying_which_part(client, users):
    response = _login(client, users["admin"].email, "wrong password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)
    unknown = _login(client, "nobody@example.com", "wrong password")
    assert unknown.status_code == 401


def test_a_deactivated_user_cannot_sign_in(client, users, db_session):
    users["agent"].active = False
    db_session.commit()
    assert _login(client, users["agent"].email, PASSWORD).status_code == 401


def test_five_failures_for_one_account_lock_it_for_a_while(client, users):
    for _ in range(5):
        assert _login(client, users["admin"].email, "nope").status_code == 401
    locked = _login(client, users["admin"].email, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    # another account from another address is not affected
    other = client.post(
        "/login",
        data={
            "email": users["manager"].email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 302


def test_five_failures_from_one_address_block_that_address(client, users):
    for n in range(5):
        assert _login(client, f"guess{n}@example.com", "nope").status_code == 401
    assert _login(client, users["admin"].email, PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(client, users):
    for _ in range(7):
        assert _login(client, users["admin"].email, PASSWORD).status_code == 302


def test_sign_in_starts_a_new_session(client, users):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _login(client, users["admin"].email, PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_out(client, login_as):
    login_as("agent")
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert client.get("/leads").status_code == 302


def test_forms_without_the_csrf_token_are_refused(client, login_as):
    login_as("admin")
    response = client.post("/settings/distributors/", data={"name": "No Token"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, client, users):
    other_browser = app.test_client()
    _login(other_browser, users["agent"].email, PASSWORD)
    _login(client, users["agent"].email, PASSWORD)
    response = client.post(
        "/settings/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a much longer secret",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert client.get("/leads").status_code == 200
    assert other_browser.get("/leads").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert _login(client, users["agent"].email, "a much longer secret").status_code == 302


def test_password_change_needs_the_current_one_and_a_long_new_one(client, login_as):
    login_as("agent")
    for current, new in ((PASSWORD, "short"), ("wrong", "a much longer secret")):
        client.post(
            "/settings/account/password",
            data={
                "current_password": current,
                "new_password": new,
                "csrf_token": csrf_token(client),
            },
        )
        page = client.get("/settings/account").get_data(as_text=True)
        assert "alert-danger" in page


def test_an_api_key_is_shown_once_and_stored_hashed(client, login_as, db_session):
    user = login_as("agent")
    client.post(
        "/settings/account/api-keys", data={"name": "my script", "csrf_token": csrf_token(client)}
    )
    page = client.get("/settings/account").get_data(as_text=True)
    assert "Copy this key now" in page
    key = page.split('id="new-api-key">')[1].split("<")[0]
    stored = db_session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).one()
    assert key not in (stored.key_hash, stored.prefix) and key.startswith(stored.prefix)
    assert key not in client.get("/settings/account").get_data(as_text=True)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    client.post(
        f"/settings/account/api-keys/{stored.id}/revoke", data={"csrf_token": csrf_token(client)}
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_nobody_revokes_someone_elses_key(client, login_as, users, db_session):
    from leadhub.auth import service as accounts

    accounts.create_api_key(db_session, user=users["manager"], name="theirs", actor=None)
    db_session.commit()
    key = accounts.list_api_keys(db_session, user=users["manager"])[0]
    login_as("agent")
    response = client.post(
        f"/settings/account/api-keys/{key.id}/revoke", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "role, status",
    [("admin", 200), ("superadmin", 200), ("manager", 403), ("agent", 403), ("viewer", 403)],
)
def test_user_management_is_for_admins(client, login_as, role, status):
    login_as(role)
    assert client.get("/settings/users").status_code == status
    assert client.get("/settings/distributors/").status_code == status


def test_admin_creates_edits_and_deactivates_a_user(client, login_as, distributor, db_session):
    login_as("admin")
    response = client.post(
        "/settings/users/new",
        data={
            "email": "New.Agent@Example.com",
            "name": "New Agent",
            "role": "agent",
            "distributor_id": distributor.id,
            "language": "ar",
            "password": "long enough pw",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    user = db_session.scalars(select(User).where(User.email == "new.agent@example.com")).one()
    assert (user.role, user.distributor_id, user.language) == (Role.AGENT, distributor.id, "ar")
    response = client.post(
        f"/settings/users/{user.id}",
        data={
            "name": "Renamed",
            "role": "manager",
            "distributor_id": distributor.id,
            "language": "tr",
            "csrf_token": csrf_token(client),
        },
    )  # "active" unchecked: deactivates
    assert response.status_code == 302
    db_session.expire_all()
    user = db_session.get(User, user.id)
    assert (user.name, user.role, user.active) == ("Renamed", Role.MANAGER, False)


def test_an_agent_needs_a_distributor_and_admins_have_none(client, login_as, distributor):
    login_as("admin")
    response = client.post(
        "/settings/users/new",
        data={
            "email": "x@example.com",
            "name": "X",
            "role": "agent",
            "language": "en",
            "password": "long enough pw",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 400
    assert "belongs to a distributor" in response.get_data(as_text=True)


def test_only_a_superadmin_makes_a_superadmin(client, login_as, users):
    login_as("admin")
    response = client.post(
        "/settings/users/new",
        data={
            "email": "boss@example.com",
            "name": "Boss",
            "role": "superadmin",
            "language": "en",
            "password": "long enough pw",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 403
    response = client.post(
        f"/settings/users/{users['superadmin'].id}",
        data={
            "name": "Demoted",
            "role": "viewer",
            "language": "en",
            "active": "on",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 403


def test_nobody_changes_their_own_role(client, login_as, users):
    user = login_as("admin")
    response = client.post(
        f"/settings/users/{user.id}",
        data={
            "name": user.name,
            "role": "viewer",
            "language": "en",
            "active": "on",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 400


def test_admin_makes_an_api_key_for_a_user(client, login_as, users):
    login_as("admin")
    response = client.post(
        f"/settings/users/{users['agent'].id}/api-keys",
        data={"name": "integration", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    page = client.get(f"/settings/users/{users['agent'].id}").get_data(as_text=True)
    key = page.split('id="new-api-key">')[1].split("<")[0]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json
    assert me["id"] == users["agent"].id


def test_users_page_lists_people(client, login_as, users):
    login_as("admin")
    page = client.get("/settings/users").get_data(as_text=True)
    assert users["agent"].name in page and users["manager_other"].email in page


def test_user_factory_roles(db_session):
    assert UserFactory(role=Role.AGENT).distributor_id is not None


def test_a_user_sets_language_and_time_zone(client, login_as, db_session):
    user = login_as("agent")
    response = client.post(
        "/settings/account/preferences",
        data={"language": "ar", "timezone": "Asia/Dubai", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    db_session.expire_all()
    stored = db_session.get(User, user.id)
    assert (stored.language, stored.timezone) == ("ar", "Asia/Dubai")
    page = client.get("/settings/account").get_data(as_text=True)
    assert 'dir="rtl"' in page and '<option value="Asia/Dubai" selected>' in page
    client.post(
        "/settings/account/preferences",
        data={"language": "en", "timezone": "Mars/Olympus", "csrf_token": csrf_token(client)},
    )
    db_session.expire_all()
    assert db_session.get(User, user.id).timezone == "Asia/Dubai"


def test_the_language_picked_before_sign_in_is_kept(client, users, db_session):
    client.get("/login")
    client.post("/language", data={"language": "ar", "csrf_token": csrf_token(client)})
    _login(client, users["viewer"].email, PASSWORD)
    assert 'dir="rtl"' in client.get("/leads").get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, users["viewer"].id).language == "ar"
