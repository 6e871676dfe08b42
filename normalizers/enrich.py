"""Shared enrichment of a normalizer's draft from its text (placeholder; see issue 3).

Fills only what the normalizer left empty. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from normalizers.base import NormalizeContext


def enrich(draft: dict[str, Any], ctx: NormalizeContext) -> dict[str, Any]:
    """Return ``draft`` with fields extracted from its text where the normalizer left them empty."""
    del ctx
    return draft
