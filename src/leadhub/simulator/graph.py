"""The Graph API's conventions: error bodies, field selection, cursors and usage headers."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import random
import string
import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response

GRAPH_DOCS = "https://developers.facebook.com/docs/graph-api"
RATE_LIMIT_MESSAGE = (
    "(#80005) There have been too many leadgen api calls to this Page account. Wait a bit and "
    "try again. For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
)
_TRACE_CHARS = string.ascii_letters + string.digits
_trace_rng = random.Random()  # noqa: S311 - trace ids are not secrets


class GraphError(Exception):
    """An error the Graph API answers with `{"error": {...}}`."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        kind: str = "OAuthException",
        subcode: int | None = None,
        status: int = 400,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.kind, self.subcode = message, code, kind, subcode
        self.status, self.transient = status, transient

    def body(self) -> dict:
        """The JSON body, keys in Meta's order, with a fresh `fbtrace_id`."""
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        error["fbtrace_id"] = "A" + "".join(_trace_rng.choices(_TRACE_CHARS, k=22))
        return {"error": error}

    def response(self) -> Response:
        reply = json_response(self.body(), self.status)
        if self.code in (104, 190):
            reply.headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{self.message}"'
            )
        return reply


def json_response(payload: Any, status: int = 200) -> Response:
    """Compact JSON with non-ASCII escaped, as graph.facebook.com sends it."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return Response(text, status=status, content_type="application/json; charset=UTF-8")


def missing_token() -> GraphError:
    return GraphError("An access token is required to request this resource.", code=104)


def invalid_token() -> GraphError:
    return GraphError(
        "Invalid OAuth access token - Cannot parse access token", code=190, subcode=467
    )


def _pacific() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-8), "PST")


def expired_token(expired_at: float, now: float) -> GraphError:
    """Code 190/463 with Meta's wording, times in Pacific time."""
    zone, fmt = _pacific(), "%A, %d-%b-%y %H:%M:%S %Z"
    then = datetime.fromtimestamp(expired_at, UTC).astimezone(zone).strftime(fmt)
    current = datetime.fromtimestamp(now, UTC).astimezone(zone).strftime(fmt)
    message = (
        f"Error validating access token: Session has expired on {then}. "
        f"The current time is {current}."
    )
    return GraphError(message, code=190, subcode=463)


def proof_missing() -> GraphError:
    return GraphError(
        "API calls from the server require an appsecret_proof argument",
        code=100,
        kind="GraphMethodException",
    )


def proof_invalid() -> GraphError:
    return GraphError(
        "Invalid appsecret_proof provided in the API argument",
        code=100,
        kind="GraphMethodException",
    )


def unsupported(method: str, object_id: str) -> GraphError:
    """The code-100 answer for an id that does not exist or cannot be seen."""
    return GraphError(
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        f"Please read the Graph API documentation at {GRAPH_DOCS}",
        code=100,
        subcode=33,
        kind="GraphMethodException",
    )


def permission_denied() -> GraphError:
    return GraphError(
        "(#10) Permission denied: the access token does not grant access to this Page's leads",
        code=10,
    )


def page_token_required() -> GraphError:
    return GraphError("(#210) A page access token is required to request this resource.", code=210)


def deprecated_version(served: str) -> GraphError:
    return GraphError(
        "(#2635) You are calling a deprecated version of the Graph API. "
        f"Please update to the latest version: {served}.",
        code=2635,
    )


def invalid_parameter(message: str) -> GraphError:
    return GraphError(f"(#100) {message}", code=100)


def nonexisting_field(name: str, node_type: str) -> GraphError:
    return invalid_parameter(
        f"Tried accessing nonexisting field ({name}) on node type ({node_type})"
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(f"Unknown path components: {path}", code=2500)


def rate_limited() -> GraphError:
    return GraphError(RATE_LIMIT_MESSAGE, code=80005)


def server_error(status: int) -> GraphError:
    """Meta's transient errors: code 1 (unknown) for a 500, code 2 (service) otherwise."""
    if status == 500:
        return GraphError("An unknown error has occurred.", code=1, status=500, transient=True)
    return GraphError(
        "An unexpected error has occurred. Please retry your request later.",
        code=2,
        status=status,
        transient=True,
    )


def parse_fields(raw: str | None, allowed: Sequence[str], node_type: str) -> list[str] | None:
    """The top-level names of a `fields` parameter (sub-selections dropped), checked."""
    if not raw:
        return None
    names, depth, current = [], 0, ""
    for char in raw:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    fields = [name.split("{")[0].split(".")[0].strip() for name in names if name.strip()]
    for name in fields:
        if name not in allowed:
            raise nonexisting_field(name, node_type)
    return fields


def parse_limit(raw: str | None, default: int = 25) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_parameter("Param limit must be a positive integer")
    return int(raw)


def encode_cursor(key: tuple[int, str]) -> str:
    raw = f"AQHR{key[0]}:{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        seconds, _, object_id = text.removeprefix("AQHR").partition(":")
        return int(seconds), object_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_parameter(f"Invalid cursor: {cursor}") from exc


def sort_key(created_time: int, object_id: str) -> tuple[int, int]:
    return created_time, int(object_id)


def window(
    items: Sequence[Any],
    key: Callable[[Any], tuple[int, str]],
    *,
    limit: int,
    after: str | None,
    before: str | None,
) -> tuple[list[Any], bool, bool]:
    """One page of `items` (newest first) around a cursor: (page, has_previous, has_next).

    The cursor is found by bisection, so paging through a big form costs no scan per page.
    """

    def older(item: Any) -> tuple[int, int]:  # ascending along the newest-first list
        created_time, object_id = sort_key(*key(item))
        return -created_time, -object_id

    def mark(cursor: str) -> tuple[int, int]:
        created_time, object_id = sort_key(*decode_cursor(cursor))
        return -created_time, -object_id

    if after:  # the first item older than the cursor
        start = bisect.bisect_right(items, mark(after), key=older)
        end = start + limit
    elif before:  # up to the cursor's item, not included
        end = bisect.bisect_left(items, mark(before), key=older)
        start = max(0, end - limit)
    else:
        start, end = 0, limit
    return list(items[start:end]), start > 0, end < len(items)


class UsageMeter:
    """Counts calls per Page over the last hour to fill Meta's usage headers."""

    APP_CALLS_PER_HOUR = 2000
    PAGE_CALLS_PER_LEAD_HOUR = 200

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._calls: deque[tuple[float, str | None]] = deque()
        self._lock = threading.Lock()

    def record(self, page_id: str | None) -> tuple[int, int]:
        """Count one call; returns the calls in the last hour for the app and for the Page."""
        now = self._clock()
        with self._lock:
            self._calls.append((now, page_id))
            while self._calls and self._calls[0][0] < now - 3600:
                self._calls.popleft()
            on_page = sum(1 for _, p in self._calls if page_id and p == page_id)
            return len(self._calls), on_page

    def headers(
        self, page_id: str | None, kind: str, *, leads: int, throttled: int | None = None
    ) -> dict[str, str]:
        """`x-app-usage` and `x-business-use-case-usage`, each a JSON string."""
        app_calls, page_calls = self.record(page_id)
        app_pct = min(100, app_calls * 100 // self.APP_CALLS_PER_HOUR)
        app = {"call_count": app_pct, "total_time": app_pct * 2 // 3, "total_cputime": app_pct // 2}
        buc: dict[str, list[dict]] = {}
        if page_id:
            budget = self.PAGE_CALLS_PER_LEAD_HOUR * max(1, leads)
            pct = 100 if throttled is not None else min(99, page_calls * 100 // budget)
            buc[page_id] = [
                {
                    "type": kind,
                    "call_count": pct,
                    "total_cputime": pct // 4,
                    "total_time": pct // 3,
                    "estimated_time_to_regain_access": throttled or 0,
                }
            ]
        return {
            "x-app-usage": json.dumps(app, separators=(",", ":")),
            "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
        }
