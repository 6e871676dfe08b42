"""Core commands: check-config, run, normalize, import, quarantine, schema."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ingest.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    exit_now,
    fail,
    load_or_exit,
    setup_logging,
)
from ingest.config import AppConfig, HttpSection, MetricsSection
from ingest.registry import ChannelSettings, UnknownKind, available_kinds, get_plugin
from normalizers.base import Normalized, RawMessage

T = TypeVar("T")


class Only(StrEnum):
    ALL = "all"
    POLLERS = "pollers"
    STORE = "store"


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _settings_summary(settings: ChannelSettings) -> str:
    base = set(ChannelSettings.model_fields)
    parts = []
    for key, value in settings:
        if key in base or value is None or value == [] or value == {}:
            continue
        if isinstance(value, SecretStr):
            shown = "***"
        elif hasattr(value, "model_dump"):
            shown = f"<{len([v for v in value.model_dump().values() if v is not None])} set>"
        else:
            shown = str(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "…"
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def check_config(
    file: Annotated[Path | None, typer.Argument(help="channels.yaml (default: --config)")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Validate channels.yaml and show its channels."""
    cfg = load_or_exit(file or config)
    console = Console()
    console.print(
        f"[bold]{cfg.office.name}[/bold] — {cfg.office.region.regency or ''}, "
        f"{cfg.office.region.province} ({cfg.office.timezone})"
    )
    console.print(f"queue: {cfg.redact(cfg.queue_url)}   store: {cfg.redact(cfg.store_url)}")
    console.print(f"data:  {cfg.data_dir}")
    table = Table("name", "kind", "enabled", "poll (s)", "settings")
    for ch in cfg.channels:
        table.add_row(
            ch.name,
            ch.kind,
            "yes" if ch.enabled else "no",
            f"{ch.poll_interval:g}",
            cfg.redact(_settings_summary(ch)),
        )
    console.print(table)
    console.print(
        f"[green]OK[/green]: {len(cfg.channels)} channel(s), {len(cfg.enabled_channels)} enabled"
    )


def run(
    ctx: typer.Context,
    config: ConfigOption = DEFAULT_CONFIG,
    only: Annotated[
        Only, typer.Option(help="run only the pollers or only the store consumer")
    ] = Only.ALL,
    channel: Annotated[list[str] | None, typer.Option(help="poll only these channels")] = None,
    until_idle: Annotated[
        bool,
        typer.Option(
            "--until-idle", help="poll each channel until it has nothing new, store, exit"
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Poll every enabled channel and (by default) store what arrives, until SIGTERM/SIGINT."""
    from ingest.forking import start_forkserver

    cfg = load_or_exit(config)
    if only is not Only.STORE:
        start_forkserver(cfg)  # it imports what the children need while we import the rest

    from prometheus_client import start_http_server

    from ingest.pipeline import Pipeline
    from ingest.runtime import Runtime
    from ingest.storeproc import StoreProcess
    from sinks.db import make_engine, migrate
    from sinks.repository import count_reports
    from sinks.state import CheckpointStore
    from sinks.store import StoreConsumer

    setup_logging(cfg, verbose)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        typer.echo(
            f"received signal {signum}: stopping (checkpoints stay at the last confirmed batch)",
            err=True,
        )
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if only is Only.STORE:
        StoreConsumer(cfg.queue_url, cfg.data_dir, engine, batch_size=cfg.store_batch_size).run(
            stop
        )
        return
    # the store gets a process of its own (see ingest.storeproc), started before any thread
    store = StoreProcess(cfg, verbose=verbose) if only is Only.ALL else None
    before = count_reports(engine) if store is not None else 0
    if store is not None:
        store.start()
    finished = False
    try:
        with Pipeline.open(cfg, migrate=False) as pipeline:
            runtime = Runtime(cfg, pipeline, CheckpointStore(engine))
            runtime.stop = stop
            if cfg.metrics.port is not None:
                start_http_server(cfg.metrics.port, registry=runtime.metrics.registry)
            if until_idle:
                fetched = runtime.run_until_idle()
                stored = 0
                if store is not None and not stop.is_set():
                    code = store.finish()
                    if code != 0:
                        raise fail(f"the store process failed (exit code {code}); see above")
                    stored = count_reports(engine) - before
                typer.echo(f"fetched {fetched} message(s); {stored} new report(s) stored", err=True)
                finished = True
            else:
                runtime.start(channel)
                try:
                    while not stop.wait(1.0):
                        if store is not None and not store.is_alive():
                            typer.echo(
                                "store process stopped unexpectedly "
                                f"(exit code {store.exitcode}); shutting down",
                                err=True,
                            )
                            stop.set()
                finally:
                    runtime.join(timeout=30)
    finally:
        if store is not None:
            store.stop()
    if finished and isinstance(ctx.obj, dict) and ctx.obj.get("whole_process"):
        engine.dispose()  # the queue, the store and the pool are closed already
        exit_now(0)  # the interpreter's teardown took a tenth of a 5,000-message run
    unhealthy = [w.status for w in runtime.workers if not w.status.healthy]
    for status in unhealthy:
        typer.echo(f"channel {status.name}: {status.message}", err=True)


def _file_message(path: Path) -> RawMessage:
    data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".eml":
        ctype = "message/rfc822"
    mtime = (
        datetime.now(UTC) if str(path) == "-" else datetime.fromtimestamp(path.stat().st_mtime, UTC)
    )
    return RawMessage(
        payload=data,
        content_type=ctype,
        external_id=hashlib.sha256(data).hexdigest(),
        received_at=mtime,
        filename=path.name,
    )


def normalize(
    paths: Annotated[list[Path], typer.Argument(help="raw payload files ('-' for stdin)")],
    channel: Annotated[
        str, typer.Option("--channel", help="channel kind (or a channel name in the config)")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Offline: run a channel's normalizer over raw files and print one report JSON per line."""
    from ingest.normalizing import normalize_safely, offline_context
    from normalizers.office import DEFAULT_OFFICE

    cfg: AppConfig | None = load_or_exit(config) if config.exists() else None
    settings: ChannelSettings | None = None
    if cfg is not None:
        settings = next((c for c in cfg.channels if c.name == channel), None) or next(
            (c for c in cfg.channels if c.kind == channel), None
        )
    kind = settings.kind if settings is not None else channel
    try:
        plugin = get_plugin(kind)
    except UnknownKind as exc:
        raise fail(f"{exc}: no normalizer for {channel!r} yet", 2) from None
    if settings is None:
        settings = plugin.settings.model_construct(name=kind, kind=kind)
    if cfg is None:
        cfg = AppConfig(
            source=config,
            office=DEFAULT_OFFICE,
            data_dir=Path("var"),
            queue_url="embedded",
            store_url="sqlite://",
            store_batch_size=100,
            http=HttpSection(),
            metrics=MetricsSection(),
            channels=[settings],
            plugins={kind: plugin},
        )
    failed = 0
    for path in paths:
        if str(path) != "-" and not path.is_file():
            typer.echo(f"{path}: no such file", err=True)
            failed += 1
            continue
        raw = _file_message(path)
        for outcome in normalize_safely(plugin, raw, offline_context(cfg, settings, raw)):
            if isinstance(outcome, Normalized):
                typer.echo(outcome.report.to_json())
            else:
                failed += 1
                ident = f" [{outcome.external_id}]" if outcome.external_id else ""
                typer.echo(f"{path}{ident}: rejected: {outcome.reason}", err=True)
    if failed:
        raise typer.Exit(1)


def import_(
    path: Annotated[
        Path, typer.Argument(help="a file or folder to backfill from (mbox, Maildir, CSV, XLSX…)")
    ],
    channel: Annotated[str, typer.Option("--channel", help="channel name in channels.yaml")],
    config: ConfigOption = DEFAULT_CONFIG,
    batch: Annotated[int, typer.Option(help="messages per publish")] = 200,
) -> None:
    """Backfill: run a channel's normalizer over local files and publish the reports."""
    from ingest.pipeline import Pipeline

    cfg = load_or_exit(config)
    setup_logging(cfg)
    try:
        settings = cfg.channel(channel)
    except KeyError as exc:
        raise fail(str(exc.args[0]), 2) from None
    plugin = cfg.plugin(settings)
    if plugin.read_files is None:
        raise fail(f"channel kind {settings.kind!r} has no file import", 2)
    if not path.exists():
        raise fail(f"{path}: no such file or folder", 2)
    published = quarantined = 0
    with (
        Pipeline.open(cfg) as pipeline,
        Progress(disable=not sys.stderr.isatty(), transient=True) as bar,
    ):
        task = bar.add_task(f"importing {path.name}", total=None)
        for chunk in _chunks(plugin.read_files(path, settings), batch):
            result = pipeline.process(settings.name, chunk)
            published += len(result.published)
            quarantined += len(result.quarantined)
            bar.advance(task, len(chunk))
    typer.echo(f"{published} report(s) published, {quarantined} quarantined", err=True)


quarantine_app = typer.Typer(
    help="Messages that could not become reports: list, show, replay.", no_args_is_help=True
)


def _quarantine_store(cfg: AppConfig) -> Any:
    from sinks.db import make_engine, migrate
    from sinks.state import QuarantineStore

    engine = make_engine(cfg.store_url)
    migrate(engine)
    return QuarantineStore(engine)


@quarantine_app.command("list")
def quarantine_list(
    config: ConfigOption = DEFAULT_CONFIG,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    all_: Annotated[bool, typer.Option("--all", help="include replayed items")] = False,
) -> None:
    """Quarantined items, newest last."""
    cfg = load_or_exit(config)
    items = _quarantine_store(cfg).list(channel, include_replayed=all_)
    rows = [
        (
            str(it.id),
            it.channel_name,
            it.received_at.isoformat() if it.received_at else "",
            it.external_id or "",
            it.reason,
            it.replayed_at.isoformat() if it.replayed_at else "",
        )
        for it in items
    ]
    if sys.stdout.isatty():
        table = Table("id", "channel", "received", "external id", "reason", "replayed")
        for r in rows:
            table.add_row(*r[:3], r[3][:32], r[4][:80], "yes" if r[5] else "")
        Console().print(table)
    else:  # piped: one tab-separated line per item, nothing cut
        for r in rows:
            typer.echo("\t".join(r))
    typer.echo(f"{len(items)} item(s)", err=True)


@quarantine_app.command("show")
def quarantine_show(
    item_id: Annotated[int, typer.Argument(help="quarantine id")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """One quarantined item: its reason and where its raw payload is kept."""
    cfg = load_or_exit(config)
    item = _quarantine_store(cfg).get(item_id)
    if item is None:
        raise fail(f"no quarantined item {item_id} (see `aduan quarantine list`)")
    doc = {
        "id": item.id,
        "channel": item.channel_name,
        "kind": item.channel_kind,
        "reason": item.reason,
        "external_id": item.external_id,
        "raw_uri": item.raw_uri,
        "raw_sha256": item.raw_sha256,
        "content_type": item.content_type,
        "filename": item.filename,
        "meta": item.meta,
        "received_at": item.received_at.isoformat() if item.received_at else None,
        "created_at": item.created_at.isoformat() if item.created_at else None,
        "replayed_at": item.replayed_at.isoformat() if item.replayed_at else None,
    }
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))


def _raw_from_uri(uri: str) -> bytes:
    from ingest.packs import read_archived

    return read_archived(uri)


@quarantine_app.command("replay")
def quarantine_replay(
    item_ids: Annotated[list[int] | None, typer.Argument(help="quarantine ids")] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    all_: Annotated[bool, typer.Option("--all", help="replay every item not yet replayed")] = False,
    channel: Annotated[str | None, typer.Option(help="with --all: only this channel")] = None,
) -> None:
    """Run quarantined items through the (fixed) normalizer again and publish what now passes."""
    from ingest.pipeline import Pipeline

    cfg = load_or_exit(config)
    setup_logging(cfg)
    store = _quarantine_store(cfg)
    items = store.list(channel) if all_ else [store.get(i) for i in item_ids or []]
    if not items:
        raise fail("nothing to replay (give ids, or --all)")
    failed = 0
    with (
        Pipeline.open(cfg) as pipeline,
        Progress(disable=not sys.stderr.isatty(), transient=True) as bar,
    ):
        task = bar.add_task("replaying", total=len(items))
        for item_id, item in zip(item_ids or [i.id for i in items], items, strict=False):
            bar.advance(task)
            if item is None:
                typer.echo(f"{item_id}: no such quarantined item", err=True)
                failed += 1
                continue
            if item.meta.get("transport_error"):
                typer.echo(
                    f"{item.id}: the payload was never fetched whole ({item.reason}); "
                    "fetch it from the source",
                    err=True,
                )
                failed += 1
                continue
            raw = RawMessage(
                payload=_raw_from_uri(item.raw_uri),
                content_type=item.content_type,
                external_id=item.external_id,
                received_at=item.received_at,
                filename=item.filename,
                meta=item.meta,
            )
            result = pipeline.process(item.channel_name, [raw], quarantine=False)
            if result.published:
                store.mark_replayed(item.id, [str(r.id) for r in result.published])
            for rejection in result.rejected:
                failed += 1
                typer.echo(f"{item.id}: still rejected: {rejection.reason}", err=True)
            typer.echo(f"{item.id}: {len(result.published)} report(s) published")
    if failed:
        raise typer.Exit(1)


def schema(
    check: Annotated[
        Path | None, typer.Option(help="fail if this file differs from the model")
    ] = None,
) -> None:
    """Print the report record's JSON Schema (or check a committed copy against the model)."""
    from normalizers.record import json_schema_text

    text = json_schema_text()
    if check is None:
        typer.echo(text, nl=False)
        return
    if not check.exists() or check.read_text(encoding="utf-8") != text:
        raise fail(f"{check} is out of date: run `aduan schema > {check}`")
    typer.echo(f"{check} matches the model")


def kinds() -> None:
    """List the installed channel kinds (entry points `aduan.channels`)."""
    for kind in available_kinds():
        typer.echo(kind)


def register(app: typer.Typer) -> None:
    app.command("check-config")(check_config)
    app.command("run")(run)
    app.command("normalize")(normalize)
    app.command("import")(import_)
    app.command("schema")(schema)
    app.command("kinds")(kinds)
    app.add_typer(quarantine_app, name="quarantine")
