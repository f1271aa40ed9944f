"""leadhub.db's helpers that need a test of their own."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Integer, String, Text, func, select

from leadhub.db import array


@pytest.mark.parametrize(
    "values, item_type",
    [
        ([3, None, 70_000], Integer),  # sent as the narrowest type that holds them, then cast
        ([2**40, 1], BigInteger),
        (["→ lost: Price", None, "Zoë"], Text),
        (["assigned", "new"], String(32)),
        ([None, None], Text),  # no value to take a type from
        ([], Integer),
    ],
)
def test_an_array_comes_back_as_sent(db_session, values, item_type):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("arrays are PostgreSQL's")
    sent = func.unnest(array(values, item_type)).table_valued("value").render_derived()
    assert list(db_session.scalars(select(sent.c.value))) == values
