"""The office profile: what normalizers need to know about the office they normalize for.

It is part of ``channels.yaml`` (the ``office`` block) but lives here because normalizers must not
import the ingest layer: data flows one way, ingest -> normalizers -> sinks.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Conf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Conf):
    """The office area by gazetteer names, e.g. province "Sumatera Selatan", regency "Ogan Ilir"."""

    province: str
    regency: str | None = None


class SlaPolicy(_Conf):
    """How long an agency (OPD) has to answer, after the SOPs of SP4N-LAPOR! offices.

    ``unit: working_days`` counts working days (weekends, Indonesian public holidays and
    ``extra_holidays`` skipped) in the office's timezone; ``unit: hours`` counts wall-clock hours
    (the "3 x 24 jam" variant). ``by_severity`` overrides ``default`` for a weighed report.
    """

    unit: Literal["working_days", "hours"] = "working_days"
    default: Annotated[int, Field(gt=0)] = 5
    by_severity: dict[Literal["ringan", "sedang", "berat"], Annotated[int, Field(gt=0)]] = Field(
        default_factory=dict
    )
    extra_holidays: list[dt.date] = Field(
        default_factory=list, description="cuti bersama and local holidays, as YYYY-MM-DD"
    )


class Category(_Conf):
    """One of the office's complaint categories, with its keyword rules."""

    name: str
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list, description="regular expressions")
    severity: Literal["ringan", "sedang", "berat"] | None = None


class OfficeProfile(_Conf):
    name: str
    region: Region
    timezone: str = "Asia/Jakarta"
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    categories: list[Category] = Field(default_factory=list)
    classifier_model: str | None = Field(
        default=None, description="path of a model made by `aduan train-classifier`"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (e.g. Asia/Jakarta, Asia/Makassar)"
            ) from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_OFFICE = OfficeProfile(
    name="Diskominfo",
    region=Region(province="Sumatera Selatan", regency="Ogan Ilir"),
)
