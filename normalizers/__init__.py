"""Pure functions from a raw payload to the report record, and the Indonesian extractors."""

from normalizers.base import (
    NormalizeContext,
    Normalized,
    Normalizer,
    Outcome,
    RawMessage,
    Rejection,
    build_report,
)
from normalizers.record import Report, report_id

__all__ = [
    "NormalizeContext",
    "Normalized",
    "Normalizer",
    "Outcome",
    "RawMessage",
    "Rejection",
    "Report",
    "build_report",
    "report_id",
]
