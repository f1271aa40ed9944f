"""The one client LeadHub uses to talk to Meta's Graph API: signed calls, retries, typed errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from leadhub import metrics
from leadhub.config import DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION

log = logging.getLogger("leadhub.meta.graph")

LEAD_FIELDS = (
    "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,"
    "is_organic,platform,field_data,custom_disclaimer_responses"
)
FORM_FIELDS = "id,name,status,locale,created_time,leads_count,questions,privacy_policy_url"
PAGE_FIELDS = "id,name"

CONNECT_TIMEOUT = 5.0
TRANSIENT_CODES = frozenset({1, 2})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006})
USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage")

_NODE_ID = re.compile(r"[A-Za-z0-9_]+")
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class GraphError(Exception):
    """A Graph API call failed; the subclass says what the caller should do about it."""

    default_message = "The Graph API call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        super().__init__(self._describe())

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore_error, (type(self), dict(self.__dict__))

    def _describe(self) -> str:
        details = [
            f"{label} {value}"
            for label, value in (
                ("HTTP", self.status),
                ("code", self.code),
                ("subcode", self.subcode),
                ("fbtrace_id", self.fbtrace_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message


def _restore_error(cls: type[GraphError], state: dict[str, Any]) -> GraphError:
    """Unpickle a GraphError (job queues pickle them) with its fields and text intact."""
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (error._describe(),)
    return error


class TokenInvalid(GraphError):
    """Code 190: the token expired or was revoked; the Page connection needs re-authorising."""

    default_message = "The access token is invalid or expired."


class PermissionDenied(GraphError):
    """Codes 10 and 200-299: a permission is missing or was not granted."""

    default_message = "The access token lacks a permission this call needs."


class RateLimited(GraphError):
    """Meta throttled the app, user, Page or business use case; call again after retry_after."""

    default_message = "Meta is rate-limiting these calls."

    def __init__(self, message: str | None = None, *, retry_after: float = 0.0, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _describe(self) -> str:
        return f"{super()._describe()}; retry after {self.retry_after:g} s"


class GraphUnavailable(GraphError):
    """Timeouts, connection errors, 5xx or codes 1 and 2 that outlasted the retries."""

    default_message = "The Graph API is unavailable."


class InvalidRequest(GraphError):
    """Any other 4xx (e.g. code 100 or 803): retrying the same call cannot help."""

    default_message = "The Graph API rejected the request."


class _HideQueryStrings(logging.Filter):
    """httpx logs every request URL at INFO level, and ours carry the access token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None, fragment=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(type(f).__name__ == _HideQueryStrings.__name__ for f in _httpx_log.filters):
    _httpx_log.addFilter(_HideQueryStrings())


_tls_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: a new one reads the system's CA bundle again, which
    cost a job half its CPU time (each job makes its own client)."""
    global _tls  # noqa: PLW0603 - built once, then only read
    with _tls_lock:
        if _tls is None:
            _tls = ssl.create_default_context()
        return _tls


class GraphClient:
    """Signed, retried calls to one Graph API version over one pooled HTTP client."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        app_id: str | None,
        app_secret: str | None,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = f"{base_url.rstrip('/')}/{version.strip('/')}/"
        self.version = version
        self.app_id = app_id
        self._app_secret = app_secret
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            transport=transport,
            headers={"Accept": "application/json"},
            verify=_tls_context(),
        )

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r}, app_id={self.app_id!r})"

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.close()

    def get(
        self, path: str, *, token: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET a node or edge and return the JSON object."""
        return self._request("GET", path, token=token, params=params)

    def post(
        self,
        path: str,
        *,
        token: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST to a node or edge (data form-encoded) and return the JSON object."""
        return self._request("POST", path, token=token, params=params, data=data)

    def paginate(
        self, path: str, *, token: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of an edge, fetching one page at a time by its `after` cursor."""
        query = dict(params or {})
        previous = None
        while True:
            page = self.get(path, token=token, params=query)
            items = page.get("data")
            if not isinstance(items, list):
                raise InvalidRequest("The response is not a list edge.")
            yield from items
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next"):
                return
            if not after or after == previous:
                log.warning("graph GET %s: paging.next without a new after cursor", path)
                return
            query["after"] = previous = after

    def lead(self, leadgen_id: str | int, *, token: str) -> dict[str, Any]:
        """One lead with its answers, consents and ad attribution."""
        return self.get(_node(leadgen_id), token=token, params={"fields": LEAD_FIELDS})

    def form_leads(
        self, form_id: str | int, *, token: str, since: int | None = None, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """A form's leads, optionally only those created after `since` (Unix seconds)."""
        params: dict[str, Any] = {"fields": LEAD_FIELDS, "limit": limit}
        if since is not None:
            params["filtering"] = [
                {"field": "time_created", "operator": "GREATER_THAN", "value": int(since)}
            ]
        return self.paginate(f"{_node(form_id)}/leads", token=token, params=params)

    def page_forms(self, page_id: str | int, *, token: str) -> Iterator[dict[str, Any]]:
        """The Page's lead forms with their questions."""
        path = f"{_node(page_id)}/leadgen_forms"
        return self.paginate(path, token=token, params={"fields": FORM_FIELDS})

    def page(self, page_id: str | int, *, token: str) -> dict[str, Any]:
        """The Page's id and name."""
        return self.get(_node(page_id), token=token, params={"fields": PAGE_FIELDS})

    def subscribe_page(self, page_id: str | int, *, token: str) -> bool:
        """Install the app on the Page so its leadgen webhooks reach us."""
        path = f"{_node(page_id)}/subscribed_apps"
        payload = self.post(path, token=token, params={"subscribed_fields": "leadgen"})
        return payload.get("success") is True

    def debug_token(self, input_token: str) -> dict[str, Any]:
        """What Meta knows about a token: validity, expiry, scopes (the `data` object)."""
        if not (self.app_id and self._app_secret):
            raise InvalidRequest("debug_token needs META_APP_ID and META_APP_SECRET.")
        app_token = f"{self.app_id}|{self._app_secret}"
        payload = self._request(
            "GET",
            "debug_token",
            token=app_token,
            params={"input_token": input_token},
            hidden=(input_token,),
        )
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    def _request(
        self,
        method: str,
        path: str,
        *,
        token: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        hidden: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Send one call, retrying what may pass, and turn failures into GraphError."""
        path = _relative_path(path)
        if not token:
            raise TokenInvalid("No access token is stored for this connection.")
        secrets = tuple(s for s in (token, self._app_secret, *hidden) if s)
        query = {**_encode(params), **self._auth(token)}
        body = _encode(data) if data is not None else None
        for attempt in range(self.max_attempts):
            started = time.perf_counter()
            try:
                response = self._http.request(method, path, params=query, data=body)
            except _RETRYABLE_TRANSPORT as exc:
                self._log_call(method, path, type(exc).__name__, attempt, started)
                error: GraphError = GraphUnavailable(
                    _scrub(f"{type(exc).__name__}: {exc}", secrets)
                )
                regain = 0.0
            except httpx.HTTPError as exc:
                raise GraphUnavailable(_scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
            else:
                self._log_call(method, path, response.status_code, attempt, started)
                payload = _json(response)
                if response.is_success and isinstance(payload, dict):
                    return payload
                regain = _regain_seconds(response.headers)
                error = _error_from(response, payload, secrets, regain or self.backoff_cap)
                metrics.graph_errors.labels(code=str(error.code or response.status_code)).inc()
            if not isinstance(error, RateLimited | GraphUnavailable):
                raise error
            if isinstance(error, RateLimited) and regain > self.backoff_cap:
                raise error  # calling again while blocked would only extend the block
            if attempt + 1 >= self.max_attempts:
                raise error
            delay = regain if isinstance(error, RateLimited) and regain else self._backoff(attempt)
            log.warning(
                "graph %s %s failed on attempt %d/%d (%s); retrying in %.2f s",
                method,
                path,
                attempt + 1,
                self.max_attempts,
                error,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _auth(self, token: str) -> dict[str, str]:
        """The access token and, when the app secret is known, its appsecret_proof."""
        auth = {"access_token": token}
        if self._app_secret:
            auth["appsecret_proof"] = appsecret_proof(token, self._app_secret)
        return auth

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography

    def _log_call(
        self, method: str, path: str, status: int | str, attempt: int, started: float
    ) -> None:
        log.debug(
            "graph %s %s -> %s (attempt %d/%d, %.0f ms)",
            method,
            path,
            status,
            attempt + 1,
            self.max_attempts,
            (time.perf_counter() - started) * 1000,
        )
        metrics.graph_calls.labels(status=str(status)).inc()


def from_config(config: Mapping[str, Any], **kwargs: Any) -> GraphClient:
    """A GraphClient for the app's META_* settings."""
    return GraphClient(
        base_url=config.get("META_GRAPH_URL") or DEFAULT_GRAPH_URL,
        version=config.get("META_GRAPH_VERSION") or DEFAULT_GRAPH_VERSION,
        app_id=config.get("META_APP_ID") or None,
        app_secret=config.get("META_APP_SECRET") or None,
        **kwargs,
    )


def appsecret_proof(token: str, app_secret: str) -> str:
    """Hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _node(node_id: str | int) -> str:
    """A Graph id as a path segment; ids arrive from webhooks, so nothing else may pass."""
    text = str(node_id).strip()
    if not _NODE_ID.fullmatch(text):
        raise InvalidRequest("That is not a Graph object id.")
    return text


def _relative_path(path: str) -> str:
    """Keep every call under the versioned base URL, where the token is meant to go."""
    cleaned = path.strip().lstrip("/")
    segments = cleaned.split("/")
    if (
        not cleaned
        or any(char in cleaned for char in "?#\\:")
        or any(segment in ("", ".", "..") for segment in segments)
    ):
        raise InvalidRequest("That is not a Graph API path.")
    return cleaned


def _encode(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Graph's parameter encoding: lists and objects as JSON, booleans as true/false."""
    encoded: dict[str, str] = {}
    for key, value in (values or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | dict):
            encoded[key] = json.dumps(value, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _regain_seconds(headers: httpx.Headers) -> float:
    """The longest estimated_time_to_regain_access in the usage headers, in seconds."""
    minutes = 0.0
    for name in USAGE_HEADERS:
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        pending = [usage]
        while pending:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                value = item.get("estimated_time_to_regain_access")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    minutes = max(minutes, float(value))
                pending.extend(v for v in item.values() if isinstance(v, list | dict))
    return minutes * 60


def _error_from(
    response: httpx.Response, payload: Any, secrets: tuple[str, ...], retry_after: float
) -> GraphError:
    """The GraphError a failed response stands for, its text scrubbed of secrets."""
    body = payload.get("error") if isinstance(payload, dict) else None
    body = body if isinstance(body, dict) else {}
    code = _int(body.get("code"))
    status = response.status_code
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "subcode": _int(body.get("error_subcode")),
        "type": body.get("type") if isinstance(body.get("type"), str) else None,
        "fbtrace_id": body.get("fbtrace_id") if isinstance(body.get("fbtrace_id"), str) else None,
    }
    raw_message = body.get("message")
    message = _scrub(raw_message, secrets) if isinstance(raw_message, str) else None
    if code == 190:
        return TokenInvalid(message, **fields)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return PermissionDenied(message, **fields)
    if code in RATE_LIMIT_CODES or (code is None and status == 429):
        return RateLimited(message, retry_after=retry_after, **fields)
    if code in TRANSIENT_CODES or status >= 500:
        return GraphUnavailable(message, **fields)
    if response.is_success:
        return GraphUnavailable("The Graph API answered with something other than a JSON object.")
    return InvalidRequest(message, **fields)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Drop query strings from URLs and blank out any secret the text still holds."""
    text = _URL_QUERY.sub(r"\1", text)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text
