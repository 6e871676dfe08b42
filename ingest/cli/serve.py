"""``aduan serve``: the HTTP intake (SMS gateways, web intake, webhook channels)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.common import DEFAULT_CONFIG, ConfigOption, load_or_exit, setup_logging
from ingest.config import AppConfig


def queue_ready(cfg: AppConfig) -> bool:
    """Whether the configured queue accepts a connection now (for /readyz)."""
    from sinks.queue import connect

    try:
        conn = connect(cfg.queue_url, cfg.data_dir)
    except Exception:
        return False
    try:
        conn.ensure_connection(max_retries=1, timeout=3)  # type: ignore[no-untyped-call]
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):  # closing a connection that never opened
            conn.release()  # type: ignore[no-untyped-call]


def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default: http.host, 127.0.0.1)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="port to listen on (default: http.port, 8080)")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Serve the HTTP intake: /intake/sms, /intake/web (+ /intake/web/form), /webhooks/<name>,
    /healthz, /readyz and the OpenAPI document at /openapi.json."""
    import uvicorn

    from ingest.http import create_app
    from ingest.pipeline import Pipeline

    cfg = load_or_exit(Path(config))
    setup_logging(cfg, verbose)
    with Pipeline.open(cfg) as pipeline:
        app = create_app(cfg, pipeline.process, ready=lambda: queue_ready(cfg))
        uvicorn.run(
            app,
            host=host or cfg.http.host,
            port=cfg.http.port if port is None else port,
            log_config=None,  # keep our logging (and its redaction of secrets)
            # no access log: Kannel's get-url puts the SMS text (NIKs, phones) and the key in
            # the query string, which must not end up in log files
            access_log=False,
            proxy_headers=True,
            server_header=False,
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
