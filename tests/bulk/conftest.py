"""The live Socket.IO server's fixtures, shared with tests/realtime (test_realtime.py uses them)."""

from tests.realtime.conftest import live, people  # noqa: F401
