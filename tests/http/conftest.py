"""Fixtures of the HTTP intake tests (helpers live in intake_helpers: ``http`` is a stdlib name,
so this folder is not a package and its modules need unique names)."""

from intake_helpers import served

__all__ = ["served"]
