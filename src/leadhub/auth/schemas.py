"""What comes in and goes out for users and API keys."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from leadhub.auth.models import LANGUAGES, Role

MIN_PASSWORD = 10


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return value


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=120)
    role: Role
    distributor_id: int | None = None
    language: str = "en"
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)

    _check_language = field_validator("language")(_language)


class UserUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    distributor_id: int | None = None
    language: str | None = None
    active: bool | None = None

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        return None if value is None else _language(value)


class Preferences(BaseModel):
    language: str
    timezone: str = Field(max_length=64)

    _check_language = field_validator("language")(_language)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("choose a time zone from the list, e.g. Europe/Istanbul")
        return value


class PasswordChange(BaseModel):
    current_password: str
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=200)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    distributor_id: int | None
    language: str
    timezone: str
    active: bool
    last_login_at: datetime | None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
