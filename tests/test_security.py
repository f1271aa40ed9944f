"""Headers, errors and limits every response carries."""

from __future__ import annotations

from leadhub import web


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == web.CSP
    assert "script-src 'self'" in web.CSP and "unsafe-inline" not in web.CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.headers["X-Request-ID"]) >= 8


def test_templates_have_no_inline_script_or_style(app):
    import pathlib
    import re

    root = pathlib.Path(app.template_folder)
    # Documents that leave LeadHub (emails, the HTML report downloaded as an attachment) carry
    # their styles inline: mail clients and a file opened from disk load no stylesheet.
    standalone = (root / "notifications" / "email", root / "analytics" / "report.html")
    for path in root.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        if not any(path == s or s in path.parents for s in standalone):
            assert " style=" not in text and "<style" not in text, path


def test_a_crash_shows_a_reference_not_a_traceback(app, client, login_as, monkeypatch):
    from leadhub.leads import service

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "count_by_status", explode)
    login_as("admin")
    response = client.get("/leads")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page
    assert response.headers["X-Request-ID"] in page


def test_api_crash_is_json(client, api_as, monkeypatch):
    from leadhub.leads import service

    monkeypatch.setattr(service, "count_by_status", lambda *a, **k: 1 / 0)
    response = client.get("/api/v1/leads/counts", headers=api_as("admin"))
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "ZeroDivision" not in response.get_data(as_text=True)


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_large_form_posts_are_413(client):
    response = client.post("/login", data={"email": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"


def test_readiness_reports_a_missing_redis(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] != "ok"


def test_readiness_with_redis(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/0")
    assert client.get("/readyz").json["checks"]["redis"] == "ok"


def test_no_secret_in_responses_or_logs(app, client, api_as, caplog):
    secret = app.config["SECRET_KEY"]
    headers = api_as("admin")
    response = client.get("/api/v1/me", headers=headers)
    assert secret not in response.get_data(as_text=True)
    assert headers["Authorization"].split()[1] not in caplog.text
