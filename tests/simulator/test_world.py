"""The simulated world: reproducible, multilingual, realistic leads and their oddities."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import phonenumbers
import pytest

from leadhub.simulator import LOCALES, Oddity, World
from leadhub.simulator.questions import LONG_ANSWER_LENGTH

REGIONS = ("TR", "AE", "SA", "GB", "DE")
ARABIC = re.compile(r"[\u0600-\u06ff]")
TURKISH = re.compile(r"[çğıöşüÇĞİÖŞÜ]")


def valid_regions(raw: str) -> set[str]:
    """The markets in which `raw`, read as typed there, is a valid number of that market."""
    found = set()
    for region in REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.add(phonenumbers.region_code_for_number(number))
    return found & set(REGIONS)


def test_same_seed_same_world() -> None:
    first, second = World.seed_default(seed=3), World.seed_default(seed=3)
    assert [p.access_token for p in first.pages()] == [p.access_token for p in second.pages()]
    assert [f.id for f in first.forms()] == [f.id for f in second.forms()]
    made = [
        first.add_leads(5, created_time=1767225600),
        second.add_leads(5, created_time=1767225600),
    ]
    assert [lead.graph() for lead in made[0]] == [lead.graph() for lead in made[1]]
    assert World.seed_default(seed=4).pages()[0].id != first.pages()[0].id


def test_seed_default_shape() -> None:
    world = World.seed_default(pages=3, forms_per_page=3, leads_per_form=2)
    assert len(world.pages()) == 3
    assert len(world.forms()) == 9
    assert {form.locale for form in world.forms()} == set(LOCALES)
    for form in world.forms():
        assert form.id.isdigit() and form.status == "ACTIVE"
        assert form.privacy_policy_url.startswith("https://")
        for question in form.questions:
            assert {"key", "label", "type", "id"} <= question.keys()
            assert all(option.keys() == {"key", "value"} for option in question.get("options", []))
        assert len(world.leads(form_id=form.id)) == 2
        assert len(world.ads(form.id)) == 2
    assert all(page.id.isdigit() and page.access_token.startswith("EAA") for page in world.pages())


def test_leads_look_like_people_typed_them() -> None:
    world = World.seed_default(pages=3, forms_per_page=2, seed=11)
    leads = world.add_leads(300)
    regions, styles = set(), set()
    for lead in leads:
        phone = lead.answer("phone_number")
        assert phone, lead
        assert valid_regions(phone), phone
        regions |= valid_regions(phone)
        styles.add(phone[0])
        assert "@" in (lead.answer("email") or "")
        assert lead.id.isdigit() and lead.platform in ("fb", "ig")
        assert lead.is_organic == (lead.ad is None)
    assert regions == set(REGIONS)
    assert {"+", "0"} <= styles
    by_locale: dict[str, list[str]] = {locale: [] for locale in LOCALES}
    for lead in leads:
        by_locale[world.form(lead.form_id).locale].append(lead.answer("full_name") or "")
    assert any(ARABIC.search(name) for name in by_locale["ar_AR"])
    assert any(TURKISH.search(name) for name in by_locale["tr_TR"])
    assert any(lead.is_organic for lead in leads) and any(not lead.is_organic for lead in leads)
    answered = {key for lead in leads for key, _ in lead.field_data}
    assert {"which_treatment", "budget", "best_time_to_call", "city"} <= answered
    assert {"age", "date_of_birth"} <= answered


def test_oddities_on_demand(world: World) -> None:
    form = world.forms()[0]
    missing, long, emoji, bad = (
        world.add_leads(1, form.id, oddities=[oddity])[0] for oddity in Oddity
    )
    assert missing.answer("email") is None
    assert len(missing.field_data) < len(form.questions)
    assert len(long.answer("message") or "") == LONG_ANSWER_LENGTH
    assert any(ord(char) > 0x1F000 for char in emoji.answer("full_name") or "")
    raw = bad.answer("phone_number") or ""
    assert not valid_regions(raw)
    for region in REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        assert not phonenumbers.is_possible_number(number)


def test_add_leads_on_a_form_at_a_time(world: World) -> None:
    form = world.forms()[1]
    when = datetime(2026, 1, 1, tzinfo=UTC)
    leads = world.add_leads(3, form_id=form.id, created_time=when, organic=True)
    assert all(lead.form_id == form.id and lead.page_id == form.page_id for lead in leads)
    assert all(lead.graph()["created_time"] == "2026-01-01T00:00:00+0000" for lead in leads)
    assert all("ad_id" not in lead.graph() and lead.graph()["is_organic"] for lead in leads)
    assert world.leads(form_id=form.id)[0].id == max(lead.id for lead in leads)


def test_world_is_thread_safe(world: World) -> None:
    made: list[str] = []

    def work() -> None:
        made.extend(lead.id for lead in world.add_leads(50))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == len(set(made)) == 400
    assert len(world.leads()) == 400


def test_tokens_expire_and_renew(world: World) -> None:
    page = world.pages()[0]
    old = world.expire_token(page.id)
    assert world.token(old).expired
    new = world.renew_token(page.id)
    assert new != old and world.page(page.id).access_token == new
    assert not world.token(new).expired
    with pytest.raises(ValueError, match="no active lead form"):
        World().add_leads(1)
