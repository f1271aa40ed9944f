"""What comes in and goes out for distributors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.auth.models import LANGUAGES


class DistributorCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    language: str = "en"
    agents_see_unassigned: bool = True
    retention_months: int | None = Field(default=None, ge=1, le=240)  # None: keep leads

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isalpha():
            raise ValueError("country is a two-letter code such as TR")
        return value.upper()

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value


class DistributorUpdate(DistributorCreate):
    active: bool = True


class DistributorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    country: str | None
    language: str
    active: bool
    agents_see_unassigned: bool
    retention_months: int | None
