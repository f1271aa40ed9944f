"""Distributors: the partner agencies whose Pages bring the leads."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, TimestampMixin


class Distributor(Base, TimestampMixin):
    __tablename__ = "distributor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    agents_see_unassigned: Mapped[bool] = mapped_column(default=True)
    # Anonymise leads never converted this many months after their last activity (None: off).
    retention_months: Mapped[int | None]
