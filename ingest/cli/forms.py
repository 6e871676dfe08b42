"""CLI commands (placeholder until its area lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    del app
