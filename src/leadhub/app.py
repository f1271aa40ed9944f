"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import g, request

from leadhub import config as settings
from leadhub import (
    models,  # noqa: F401 - every table and flush hook registered
    web,
)
from leadhub.extensions import babel, csrf, db, limiter, login_manager

PACKAGE = Path(__file__).parent


def create_app(config: dict[str, Any] | None = None) -> APIFlask:
    """Build a LeadHub app; `config` overrides what the environment says (tests use it)."""
    values = settings.load()
    values.update(config or {})
    app = APIFlask(
        "leadhub",
        title="LeadHub API",
        version="1",
        spec_path="/api/v1/openapi.json",
        docs_path=None,
        instance_path=values["INSTANCE_PATH"],
        static_folder=str(PACKAGE / "static"),
        template_folder=str(PACKAGE / "templates"),
    )
    app.config.update(values)
    from leadhub.ops.limits import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # ids past 32 bits: 404, not overflow
    app.config.setdefault("RATELIMIT_STORAGE_URI", values["REDIS_URL"] or "memory://")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PACKAGE / "translations")
    app.config["SPEC_FORMAT"] = "json"
    app.security_schemes = {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    web.register_errors(app)
    from leadhub import realtime

    realtime.init_app(app)
    from leadhub import notifications

    notifications.init_app(app)
    from leadhub import metrics

    metrics.init_app(app)
    from leadhub.meta.lane import FastLane

    # Meta's deliveries are stored and answered in front of Flask's request machinery.
    app.wsgi_app = FastLane(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("TRUSTED_PROXIES"):  # behind nginx: the client's address and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


class RequestIdFilter(logging.Filter):
    """Adds the request id to every record, so a user's error reference finds its log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from leadhub import context

        record.request_id = context.current.get().request_id or "-"
        return True


def configure_logging(app: APIFlask) -> None:
    logger = logging.getLogger("leadhub")
    logger.setLevel(logging.INFO if app.config["LEADHUB_ENV"] == "production" else logging.DEBUG)
    if not any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"
            )
        )
        logger.addHandler(handler)
        logger.propagate = app.config.get(
            "TESTING", False
        )  # pytest's caplog reads propagated records
    if app.config.get("LOG_FORMAT") == "json":  # production: one JSON object a line
        from leadhub.ops.logs import use_json

        use_json(logger)


def register_extensions(app: APIFlask) -> None:
    from leadhub import crypto, queue
    from leadhub.auth import login

    db.init_app(app)
    crypto.configure(app.config["LEADHUB_ENCRYPTION_KEY"])
    queue.configure(app.config)

    @queue.huey.on_startup(name="app_context")
    def push_app_context() -> None:
        """Each job thread works inside this app (its config, its database)."""
        app.app_context().push()

    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    web.install_fast_gettext(app)
    login.init_app(app, login_manager)


def register_blueprints(app: APIFlask) -> None:
    from leadhub.analytics import api as analytics_api
    from leadhub.analytics import views as analytics_views
    from leadhub.assignment import api as assignment_api
    from leadhub.assignment import views as assignment_views
    from leadhub.auth import api as auth_api
    from leadhub.auth import views as auth_views
    from leadhub.bulk import api as bulk_api
    from leadhub.bulk import views as bulk_views
    from leadhub.distributors import api as distributors_api
    from leadhub.distributors import views as distributors_views
    from leadhub.health import views as health_views
    from leadhub.interactions import views as interactions_views
    from leadhub.leads import api as leads_api
    from leadhub.leads import views as leads_views
    from leadhub.meta import api as meta_api
    from leadhub.meta import views as meta_views
    from leadhub.notifications import api as notifications_api
    from leadhub.notifications import views as notifications_views
    from leadhub.privacy import api as privacy_api
    from leadhub.privacy import views as privacy_views
    from leadhub.scoring import api as scoring_api
    from leadhub.scoring import views as scoring_views

    for blueprint in (
        health_views.bp,
        auth_views.bp,
        distributors_views.bp,
        leads_views.bp,
        bulk_views.bp,
        meta_views.bp,
        notifications_views.bp,
        scoring_views.bp,
        analytics_views.bp,
        privacy_views.bp,
        interactions_views.bp,
        assignment_views.bp,
    ):
        app.register_blueprint(blueprint)
    for api_blueprint in (
        auth_api.bp,
        distributors_api.bp,
        leads_api.bp,
        bulk_api.bp,
        meta_api.bp,
        notifications_api.bp,
        scoring_api.bp,
        analytics_api.bp,
        privacy_api.bp,
        assignment_api.bp,
    ):
        csrf.exempt(api_blueprint)
        app.register_blueprint(api_blueprint, url_prefix="/api/v1")


def register_request_hooks(app: APIFlask) -> None:
    app.before_request(web.begin_request)
    app.after_request(web.security_headers)

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        from flask_babel import get_locale

        from leadhub.auth.models import LANGUAGES

        locale = str(get_locale() or "en")
        from flask_login import current_user

        from leadhub.meta.service import needs_reauth_count

        needs_reauth = 0
        if current_user.is_authenticated and current_user.is_clinic:
            needs_reauth = needs_reauth_count(db.session)
        return {
            "meta_needs_reauth": needs_reauth,
            "languages": LANGUAGES,
            "current_language": locale,
            "text_direction": "rtl" if locale in web.RTL_LANGUAGES else "ltr",
            "request_id": g.get("request_id"),
            "request_path": request.path,
        }

    from leadhub.labels import label

    app.jinja_env.globals["label"] = label
    app.jinja_env.filters["localtime"] = web.localtime
