"""``aduan form-template``: the project's printable complaint form (what OCR reads best)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def form_template(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="where to write the PDF", dir_okay=False)
    ] = Path("formulir.pdf"),
    office: Annotated[
        str | None,
        typer.Option("--office", help="office name printed above the title, e.g. 'Diskominfo'"),
    ] = None,
) -> None:
    """Write the printable complaint form (A4 PDF) for complaint boxes and service desks."""
    from ingest.form_template import write_form_pdf

    if out.parent and not out.parent.exists():
        typer.echo(
            f"folder {out.parent} does not exist: create it or choose another --out", err=True
        )
        raise typer.Exit(2)
    write_form_pdf(out, office)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("form-template")(form_template)
