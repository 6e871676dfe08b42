"""The verification desk on the command line: run the store, list and show reports, verify them,
move them through the lifecycle.

Every command migrates the store first (cheap when already at head), so a fresh install works
without a separate "init" step.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from ingest.cli.common import DEFAULT_CONFIG, ConfigOption, fail, load_or_exit, setup_logging
from ingest.config import AppConfig

reports_app = typer.Typer(help="Browse stored reports.", no_args_is_help=True)


def _engine(cfg: AppConfig) -> Engine:
    from sinks.db import make_engine, migrate

    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    return engine


def _default_actor() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def store(
    config: ConfigOption = DEFAULT_CONFIG,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Consume the queue into the verification store until SIGINT/SIGTERM."""
    from sinks.store import StoreConsumer

    cfg = load_or_exit(config)
    setup_logging(cfg, verbose)
    engine = _engine(cfg)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        typer.echo(f"received signal {signum}: finishing the current batch and stopping", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    StoreConsumer(cfg.queue_url, cfg.data_dir, engine, batch_size=cfg.store_batch_size).run(stop)


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@reports_app.command("list")
def list_(
    config: ConfigOption = DEFAULT_CONFIG,
    status: Annotated[str | None, typer.Option(help="only reports in this status")] = None,
    channel: Annotated[str | None, typer.Option(help="only this channel (its name)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """List stored reports, newest first."""
    from sinks.models import ReportStatus
    from sinks.repository import list_reports

    if status is not None and status not in {s.value for s in ReportStatus}:
        raise fail(f"unknown status {status!r}; valid: {', '.join(s.value for s in ReportStatus)}")
    cfg = load_or_exit(config)
    engine = _engine(cfg)
    tz = cfg.office.tz  # staff read times in the office's own zone (WIB/WITA/WIT)
    found = list_reports(engine, status=status, channel=channel, limit=limit)
    if as_json:
        for report in found:
            typer.echo(report.model_dump_json())
        return
    table = Table(title=f"{len(found)} report(s)")
    table.add_column("tracking_no", no_wrap=True, min_width=17)
    for column in ("status", "channel", "received_at", "category", "reporter"):
        table.add_column(column, no_wrap=True)
    table.add_column("text")
    for r in found:
        reporter = r.reporter.name or r.reporter.email or r.reporter.phone or r.reporter.handle
        table.add_row(
            r.tracking_no,
            r.status.value + (" (dup)" if r.duplicate_of else ""),
            f"{r.channel.kind.value}:{r.channel.name}",
            r.received_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            r.category or "-",
            reporter or "-",
            _excerpt(r.text),
        )
    # piped or logged output is not cut to 80 columns: tracking numbers must survive whole
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@reports_app.command("show")
def show(
    tracking_no: Annotated[str, typer.Argument(help="e.g. ADU-2611-000123-7")],
    config: ConfigOption = DEFAULT_CONFIG,
    as_json: Annotated[bool, typer.Option("--json", help="the stored record as JSON")] = False,
) -> None:
    """Show one report with its status history."""
    from sinks.repository import get_report
    from sinks.tracking import is_valid_tracking_no

    cfg = load_or_exit(config)
    engine = _engine(cfg)
    tz = cfg.office.tz
    report = get_report(engine, tracking_no)
    if report is None:
        hint = "" if is_valid_tracking_no(tracking_no) else " (its check digit or format is wrong)"
        raise fail(f"no report with tracking number {tracking_no}{hint}")
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    console = Console()
    console.print(f"[bold]{report.tracking_no}[/bold]  {report.status.value}")
    rows = [
        ("id", str(report.id)),
        ("channel", f"{report.channel.kind.value}:{report.channel.name}"),
        ("received_at", report.received_at.astimezone(tz).isoformat()),
        ("reporter", ", ".join(v for v in report.reporter.model_dump().values() if v) or "-"),
        ("subject", report.subject or "-"),
        ("location", ", ".join(str(v) for v in report.location.model_dump().values() if v) or "-"),
        ("category", report.category or "-"),
        ("severity", report.severity.value if report.severity else "-"),
        ("due_at", report.due_at.astimezone(tz).isoformat() if report.due_at else "-"),
        ("duplicate_of", report.duplicate_of or "-"),
        (
            "verified",
            f"{report.verified_by} at {report.verified_at}" if report.verified_by else "-",
        ),
        ("attachments", ", ".join(a.filename for a in report.attachments) or "-"),
    ]
    for key, value in rows:
        console.print(f"{key:>13}: {value}", highlight=False)
    console.print(f"\n{report.text}\n", highlight=False)
    history = Table(title="status history")
    for column in ("at", "status", "by", "reason"):
        history.add_column(column)
    for h in report.status_history:
        history.add_row(
            h.at.astimezone(tz).isoformat(timespec="seconds"), h.status.value, h.by, h.reason
        )
    console.print(history)


def verify(
    tracking_no: Annotated[str, typer.Argument(help="e.g. ADU-2611-000123-7")],
    approve: Annotated[
        bool | None,
        typer.Option("--approve/--reject", help="approve (terverifikasi) or reject (ditolak)"),
    ] = None,
    reason: Annotated[str, typer.Option(help="why (kept in the status history)")] = "",
    by: Annotated[str | None, typer.Option(help="who decides (default: $USER)")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Record the verification decision on a report."""
    if approve is None:
        raise fail("say --approve or --reject", code=2)
    if not reason.strip():
        raise fail("--reason is required (it is kept in the status history)", code=2)
    _change(config, tracking_no, approve=approve, status=None, reason=reason, actor=by)


def status(
    tracking_no: Annotated[str, typer.Argument(help="e.g. ADU-2611-000123-7")],
    new_status: Annotated[str, typer.Argument(help="didisposisikan, ditindaklanjuti, selesai, …")],
    reason: Annotated[str, typer.Option(help="why (kept in the status history)")] = "",
    by: Annotated[str | None, typer.Option(help="who (default: $USER)")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Move a report to its next status in the lifecycle."""
    if not reason.strip():
        raise fail("--reason is required (it is kept in the status history)", code=2)
    _change(config, tracking_no, approve=None, status=new_status, reason=reason, actor=by)


def _change(
    config: ConfigOption,
    tracking_no: str,
    *,
    approve: bool | None,
    status: str | None,
    reason: str,
    actor: str | None,
) -> None:
    from sinks import repository

    engine = _engine(load_or_exit(config))
    who = actor or _default_actor()
    try:
        if status is None:
            assert approve is not None
            report = repository.verify(
                engine, tracking_no, approve=approve, reason=reason, actor=who
            )
        else:
            report = repository.set_status(engine, tracking_no, status, reason=reason, actor=who)
    except repository.ReportNotFound as exc:
        raise fail(str(exc)) from None
    except repository.IllegalTransition as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{report.tracking_no}: {report.status.value} (by {who})")


def register(app: typer.Typer) -> None:
    app.command("store")(store)
    app.add_typer(reports_app, name="reports")
    app.command("verify")(verify)
    app.command("status")(status)
