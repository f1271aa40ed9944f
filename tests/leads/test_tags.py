"""Tags: the admin's list with colours, one lead's tags, coloured badges and the desk filter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.errors import Conflict, Forbidden, InvalidInput
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Tag
from tests.conftest import post_form


def _tag(db_session, name):
    return db_session.scalar(select(Tag).where(Tag.name == name))


def test_admins_create_rename_recolour_and_delete_tags(client, login_as, db_session, lead_factory):
    login_as("admin")
    post_form(client, "/settings/tags", name="VIP", color="#FF0000")
    tag = _tag(db_session, "vip")
    assert tag is not None and tag.color == "#ff0000"
    lead = lead_factory()
    lead.tags = [tag]
    db_session.commit()
    post_form(client, f"/settings/tags/{tag.id}", name="very important", color="#00aa00")
    db_session.expire_all()
    renamed = db_session.get(Tag, tag.id)
    assert (renamed.name, renamed.color) == ("very important", "#00aa00")
    page = client.get("/settings/tags").get_data(as_text=True)
    assert 'type="color"' in page and 'data-tag-color="#00aa00"' in page
    post_form(client, f"/settings/tags/{tag.id}/delete")
    db_session.expire_all()
    assert _tag(db_session, "very important") is None
    assert db_session.get(Lead, lead.id).tags == []
    actions = list(
        db_session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "tag").order_by(AuditEvent.id)
        )
    )
    assert actions == ["tag.create", "tag.update", "tag.delete"]


@pytest.mark.parametrize(
    "name, color, error",
    [
        ("", "#000000", InvalidInput),
        ("x" * 41, "#000000", InvalidInput),
        ("ok", "red", InvalidInput),
    ],
)
def test_bad_tags_are_refused(users, db_session, name, color, error):
    with pytest.raises(error):
        leads.create_tag(db_session, name=name, color=color, actor=users["admin"])


def test_a_tag_name_is_taken_once(users, db_session):
    leads.create_tag(db_session, name="arabic", color="#123456", actor=users["admin"])
    with pytest.raises(Conflict):
        leads.create_tag(db_session, name="Arabic", color="#654321", actor=users["admin"])


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_keep_the_tag_list(client, login_as, users, db_session, role):
    login_as(role)
    assert client.get("/settings/tags").status_code == 403
    with pytest.raises(Forbidden):
        leads.create_tag(db_session, name="mine", color="#123456", actor=users[role])


def test_staff_add_and_remove_one_tag_on_the_lead_page(
    client, login_as, lead_factory, db_session, users
):
    leads.create_tag(db_session, name="vip", color="#aa0000", actor=users["admin"])
    db_session.commit()
    lead = lead_factory()
    login_as("agent")
    post_form(client, f"/leads/{lead.id}/tags/add", version=lead.version, tag="VIP")
    post_form(client, f"/leads/{lead.id}/tags/add", version=lead.version + 1, tag="callback")
    db_session.expire_all()
    current = db_session.get(Lead, lead.id)
    assert [t.name for t in current.tags] == ["callback", "vip"]
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'data-tag-color="#aa0000">vip' in page and 'list="known-tags"' in page
    post_form(client, f"/leads/{lead.id}/tags/remove", version=current.version, tag="vip")
    db_session.expire_all()
    assert [t.name for t in db_session.get(Lead, lead.id).tags] == ["callback"]


def test_a_stale_tag_form_changes_nothing(client, login_as, lead_factory, db_session):
    lead = lead_factory()
    login_as("agent")
    post_form(client, f"/leads/{lead.id}/tags/add", version=lead.version + 3, tag="late")
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).tags == []
    assert "changed since you read it" in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_the_desk_shows_coloured_badges_and_filters_by_tag(
    client, login_as, lead_factory, db_session, users
):
    tag = leads.create_tag(db_session, name="hot lead", color="#ff8800", actor=users["admin"])
    tagged = lead_factory(full_name="Tagged Person")
    tagged.tags = [tag]
    lead_factory(full_name="Plain Person")
    db_session.commit()
    login_as("manager")
    page = client.get("/leads").get_data(as_text=True)
    assert 'data-tag-color="#ff8800"' in page and "js/tags.js" in page
    filtered = client.get("/leads?tag=hot+lead").get_data(as_text=True)
    assert "Tagged Person" in filtered and "Plain Person" not in filtered
