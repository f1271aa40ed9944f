from tests.conftest import csrf_token


def test_signed_in_admin_sees_the_desk(client, login_as, lead_factory):
    lead = lead_factory(full_name="Maria Jensen")
    login_as("admin")
    page = client.get("/leads")
    assert page.status_code == 200
    assert "Maria Jensen" in page.get_data(as_text=True)
    detail = client.get(f"/leads/{lead.id}")
    assert detail.status_code == 200
    assert csrf_token(client)
