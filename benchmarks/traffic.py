"""HTTP load for the webhook scenarios: a steady open loop and a flat-out closed loop.

A small HTTP/1.1 client on asyncio streams, so the client costs far less than the server it
measures. It keeps a connection open while the server allows it; Werkzeug's server (what
`leadhub serve` runs) answers `Connection: close`, so there each request opens its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Open loop: more connections open when the server falls behind, up to this many.
MAX_CONNECTIONS = 64

Body = Callable[[int], tuple[bytes, dict[str, str]]]  # request number -> (body, headers)


@dataclass
class Outcome:
    """What a run of requests gave: latencies in ms of the 2xx answers, and what went wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    connections: int = 0
    # Open loop: how late the client itself sent each request (its own scheduling, a busy
    # machine); already inside the latencies, shown apart so a slow client is not blamed on
    # the server without anyone knowing.
    lags_ms: list[float] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Connection:
    """One HTTP/1.1 connection that sends a request, reads its answer, and says if it stays open."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.open = True

    @classmethod
    async def connect(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, head: bytes, body: bytes) -> int:
        """Send one POST (head already holds the request line and headers); the status."""
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and value.strip().lower() == b"close":
                self.open = False
        if chunked:
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        elif length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.open = False
        self.writer.close()


def _head(url: str, headers: dict[str, str], length: int) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def _send(
    connection: Connection, url: str, body: Body, number: int, outcome: Outcome
) -> bool:
    """One request on `connection`; False when the connection cannot be used again."""
    payload, headers = body(number)
    try:
        status = await connection.post(_head(url, headers, len(payload)), payload)
    except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        outcome.error(type(exc).__name__)
        connection.close()
        return False
    if not 200 <= status < 300:
        outcome.error(f"HTTP {status}")
    return connection.open


async def _open_loop(url: str, body: Body, *, rate: float, seconds: float) -> Outcome:
    outcome = Outcome()
    host, port = _address(url)
    idle: list[Connection] = []
    slots = asyncio.Semaphore(MAX_CONNECTIONS)
    loop = asyncio.get_running_loop()
    count = round(rate * seconds)
    started = loop.time() + 0.05

    async def one(number: int, due: float) -> None:
        async with slots:
            outcome.lags_ms.append((loop.time() - due) * 1000)
            if idle:
                connection = idle.pop()
            else:
                try:
                    connection = await Connection.connect(host, port)
                except OSError as exc:
                    outcome.error(type(exc).__name__)
                    return
                outcome.connections += 1
            failures = outcome.failed
            reusable = await _send(connection, url, body, number, outcome)
            if outcome.failed == failures:
                # From the time it was due, not the time it went out: a stalled server makes
                # the requests behind it late, and that lateness is part of their latency.
                outcome.latencies_ms.append((loop.time() - due) * 1000)
            if reusable:
                idle.append(connection)
            else:
                connection.close()

    tasks = []
    for number in range(count):
        due = started + number / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(number, due)))
    await asyncio.gather(*tasks)
    outcome.seconds = loop.time() - started
    for connection in idle:
        connection.close()
    return outcome


async def _closed_loop(
    url: str, body: Body, *, concurrency: int, seconds: float, warmup: float
) -> Outcome:
    outcome = Outcome()
    host, port = _address(url)
    loop = asyncio.get_running_loop()
    counter = iter(range(10**9))
    measure_from = loop.time() + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        connection: Connection | None = None
        while (now := loop.time()) < stop_at:
            if connection is None:
                try:
                    connection = await Connection.connect(host, port)
                except OSError as exc:
                    outcome.error(type(exc).__name__)
                    await asyncio.sleep(0.01)
                    continue
                outcome.connections += 1
            before = outcome.failed
            reusable = await _send(connection, url, body, next(counter), outcome)
            done = loop.time()
            if now >= measure_from and done <= stop_at and outcome.failed == before:
                outcome.latencies_ms.append((done - now) * 1000)
            if not reusable:
                connection = None
        if connection is not None:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    outcome.seconds = seconds
    return outcome


def open_loop(url: str, body: Body, *, rate: float, seconds: float) -> Outcome:
    """POST at a steady `rate` for `seconds`, each request at its scheduled time whatever the
    server does; latency is measured from that time (no coordinated omission)."""
    return asyncio.run(_open_loop(url, body, rate=rate, seconds=seconds))


def closed_loop(
    url: str, body: Body, *, concurrency: int, seconds: float, warmup: float = 2.0
) -> Outcome:
    """`concurrency` connections each POSTing back to back; answers counted after `warmup`."""
    return asyncio.run(
        _closed_loop(url, body, concurrency=concurrency, seconds=seconds, warmup=warmup)
    )


def throughput(outcome: Outcome) -> float:
    """Answered requests per second over the measured window."""
    return outcome.ok / outcome.seconds if outcome.seconds else 0.0
