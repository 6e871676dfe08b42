"""The ``aduan`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import typer

from ingest.cli import core, extract, forms, serve, store


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="aduan",
        help="Omnichannel complaint ingestion for SP4N-LAPOR! offices.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for module in (core, store, extract, serve, forms):
        module.register(app)
    return app


def main() -> None:
    """The ``aduan`` program. Commands may end the process themselves here (``exit_now``), not
    when the app is invoked in-process (tests, ``CliRunner``), where ``obj`` is unset."""
    build_app()(obj={"whole_process": True})
