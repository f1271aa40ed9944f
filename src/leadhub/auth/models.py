"""Users, their roles, and API keys."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadhub.db import Base, TimestampMixin
from leadhub.distributors.models import Distributor


class Role(enum.StrEnum):
    SUPERADMIN = "superadmin"
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    VIEWER = "viewer"


CLINIC_ROLES = frozenset({Role.SUPERADMIN, Role.ADMIN})
LANGUAGES = ("en", "tr", "ar")


class User(Base, TimestampMixin):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(index=True)
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributor.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Istanbul")
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    distributor: Mapped[Distributor | None] = relationship(lazy="joined")

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session user id, stamped with the password: a new password ends old sessions."""
        return f"{self.id}:{self.session_stamp}"

    @property
    def session_stamp(self) -> str:
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:12]

    @property
    def is_clinic(self) -> bool:
        return self.role in CLINIC_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiKey(Base, TimestampMixin):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
