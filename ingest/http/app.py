"""The intake service behind ``aduan serve``: SMS gateways, web intake, webhook channels.

Every endpoint that accepts a message answers 2xx only after ``submit`` returned, i.e. after
the pipeline archived the raw payload and the queue confirmed the report (or the rejection was
quarantined). When the queue does not confirm, the answer is 503 with ``Retry-After`` and the
sender (a gateway, Facebook, a browser) tries again; the deterministic report id makes the retry
harmless. The one exception, parts of a multipart SMS, is explained in ``ingest.http.parts``.

``submit`` is injected (``Pipeline.process`` in production, a recorder in tests) and called
from a worker thread under a lock: the pipeline holds one queue connection and is not meant to
be used by two threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ingest.attachments import AttachmentStore
from ingest.config import AppConfig
from ingest.http.limits import BodyLimitMiddleware, RateLimiter, RecentCache, retry_after
from ingest.http.parts import Group, PartBuffer
from ingest.registry import ChannelSettings
from normalizers.base import RawMessage

log = logging.getLogger("aduan.http")

SubmitFn = Callable[[str, Sequence[RawMessage]], Any]
#: what a webhook's body may be at most (the Graph API sends small JSON documents)
WEBHOOK_MAX_BYTES = 1024 * 1024
RETRY_SECONDS = 30


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail=detail, headers=headers)


@dataclass
class Intake:
    """What the routes share: configuration, the serialized submit, and the per-process limits."""

    cfg: AppConfig
    submit_fn: SubmitFn
    rates: RateLimiter
    recent: RecentCache
    parts: PartBuffer
    lock: threading.Lock

    def submit(self, channel: str, messages: Sequence[RawMessage]) -> Any:
        with self.lock:
            return self.submit_fn(channel, messages)

    async def deliver(self, channel: str, messages: Sequence[RawMessage]) -> Any:
        """Submit and wait for the queue; any failure becomes a 503 the sender will retry."""
        from ingest.pipeline import PublishFailed

        try:
            return await run_in_threadpool(self.submit, channel, messages)
        except PublishFailed as exc:
            log.warning("channel %s: queue did not confirm: %s", channel, exc)
            raise error(
                503,
                "the queue did not confirm the message; nothing was kept, please retry later",
                retry_after(RETRY_SECONDS),
            ) from None
        except Exception:
            log.exception("channel %s: submit failed", channel)
            raise error(
                503,
                "the message could not be stored; please retry later",
                retry_after(RETRY_SECONDS),
            ) from None

    def pick(self, kind: str, name: str | None) -> ChannelSettings:
        """The channel a request is for: by name, or the only one of its kind."""
        chans = [c for c in self.cfg.enabled_channels if c.kind == kind]
        if name is None:
            if len(chans) == 1:
                return chans[0]
            if not chans:
                raise error(404, f"no {kind} channel is configured (add one to channels.yaml)")
            names = ", ".join(c.name for c in chans)
            raise error(404, f"several {kind} channels: post to /intake/{kind}/<name> ({names})")
        for chan in chans:
            if chan.name == name:
                return chan
        known = ", ".join(c.name for c in chans) or "none configured"
        raise error(404, f"no enabled {kind} channel with that name (known: {known})")

    def _sms_setting(self, channel: str, field: str, default: float) -> float:
        try:
            return float(getattr(self.cfg.channel(channel), field, default))
        except KeyError:
            return default

    def flush_due_parts(self) -> int:
        """Publish the multipart SMS whose missing parts are overdue; returns how many."""
        from ingest.http.sms import envelope_message

        done = 0
        groups: list[Group] = self.parts.due(
            lambda ch: self._sms_setting(ch, "part_timeout", 900.0),
            lambda ch: self._sms_setting(ch, "max_pending_parts", 1000),
        )
        for group in groups:
            try:
                self.submit(group.channel, [envelope_message(group.envelope())])
            except Exception as exc:  # kept on disk; the next sweep tries again
                log.warning("channel %s: incomplete SMS not published yet: %s", group.channel, exc)
                continue
            self.parts.remove(group)
            log.info(
                "channel %s: published a multipart SMS with parts %s of %d missing",
                group.channel,
                group.envelope().get("missing"),
                group.total,
            )
            done += 1
        return done


def _sweep_interval(cfg: AppConfig) -> float:
    timeouts = [
        float(getattr(c, "part_timeout", 900.0)) for c in cfg.enabled_channels if c.kind == "sms"
    ]
    return max(0.2, min(30.0, min(timeouts, default=900.0) / 4))


def _mount_webhooks(app: FastAPI, intake: Intake) -> list[str]:
    """Mount each webhook channel's router under ``/webhooks/{name}``."""
    mounted = []
    for settings in intake.cfg.enabled_channels:
        plugin = intake.cfg.plugin(settings)
        if plugin.webhook is None:
            continue
        name = settings.name

        def bound(messages: Sequence[RawMessage], _name: str = name) -> Any:
            return intake.submit(_name, messages)

        kwargs: dict[str, Any] = {}
        if "attachments" in inspect.signature(plugin.webhook).parameters:
            kwargs["attachments"] = AttachmentStore(intake.cfg.data_dir / "attachments")
        router = plugin.webhook(settings, bound, **kwargs)
        app.include_router(router, prefix=f"/webhooks/{name}", tags=["webhooks"])
        mounted.append(name)
    return mounted


def create_app(
    cfg: AppConfig,
    submit: SubmitFn,
    *,
    ready: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The intake app. ``submit(channel, messages)`` must return only once the queue confirmed
    (``Pipeline.process``); ``ready()`` tells whether the queue is reachable (for /readyz)."""
    from ingest.http.sms import sms_router
    from ingest.http.web import web_router

    intake = Intake(
        cfg=cfg,
        submit_fn=submit,
        rates=RateLimiter(clock),
        recent=RecentCache(),
        parts=PartBuffer(cfg.data_dir / "http" / "sms-parts"),
        lock=threading.Lock(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        del app
        interval = _sweep_interval(cfg)

        async def sweep() -> None:
            while True:
                try:
                    await run_in_threadpool(intake.flush_due_parts)
                except Exception:  # keep sweeping; the parts stay on disk
                    log.exception("sweeping multipart SMS parts failed")
                await asyncio.sleep(interval)

        task = asyncio.create_task(sweep())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="aduan intake",
        version="1",
        description="SMS gateways, web intake and webhook channels of an aduan office.",
        lifespan=lifespan,
    )
    app.state.intake = intake

    def channel_limit(kind: str, field: str, name: str | None, default: int) -> int:
        chans = [c for c in cfg.enabled_channels if c.kind == kind]
        if name is not None:
            chans = [c for c in chans if c.name == name] or chans
        return max((int(getattr(c, field, default)) for c in chans), default=default)

    def limit_for(path: str) -> int:
        """The body limit of the channel a path is for (the largest of its kind when unsure)."""
        parts = path.strip("/").split("/")
        name = parts[2] if len(parts) > 2 and parts[2] != "form" else None
        if parts[:2] == ["intake", "sms"]:
            return channel_limit("sms", "max_body_bytes", name, 64 * 1024)
        if parts[:2] == ["intake", "web"]:
            return channel_limit("web", "max_request_bytes", name, 1024 * 1024)
        return WEBHOOK_MAX_BYTES

    app.add_middleware(BodyLimitMiddleware, limit_for=limit_for)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        del request
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up (it says nothing about the queue: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "queue unreachable"}})
    async def readyz() -> JSONResponse:
        """Whether messages can be accepted now (the queue is reachable)."""
        ok = True if ready is None else bool(await run_in_threadpool(ready))
        return JSONResponse(
            {"status": "ready" if ok else "queue unreachable"}, status_code=200 if ok else 503
        )

    app.include_router(sms_router(intake))
    app.include_router(web_router(intake))
    mounted = _mount_webhooks(app, intake)
    if mounted:
        log.info("webhooks mounted: %s", ", ".join(f"/webhooks/{n}" for n in mounted))
    return app
