"""A seeded simulated Meta and an httpx client talking to its Graph API in-process."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadhub.simulator import Faults, Page, World, create_app

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
VERSION = "v27.0"


def sample(name: str) -> Any:
    """A sample payload from tests/fixtures/meta, parsed."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def proof(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def world() -> World:
    return World.seed_default(pages=2, forms_per_page=2, seed=7)


@pytest.fixture
def faults(world: World) -> Faults:
    return Faults(world, seed=7)


@pytest.fixture
def graph(world: World, faults: Faults) -> Iterator[httpx.Client]:
    app = create_app(world, version=VERSION, faults=faults)
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://graph.test") as client:
        yield client


@pytest.fixture
def auth(world: World) -> Callable[..., dict[str, str]]:
    """Query parameters authenticating as a Page (token and appsecret_proof) plus extras."""

    def params(fb_page: Page | str, **extra: Any) -> dict[str, str]:
        token = fb_page if isinstance(fb_page, str) else fb_page.access_token
        return {
            "access_token": token,
            "appsecret_proof": proof(token, world.app_secret or ""),
            **{k: str(v) for k, v in extra.items()},
        }

    return params


@pytest.fixture
def fb_page(world: World) -> Page:
    return world.pages()[0]
