"""IMAP inbox adapter (``kind: email``) and the mbox/Maildir reader for ``aduan import``.

Checkpoint: ``{"folder", "uidvalidity", "last_uid", "seen"}``. UIDs are fetched oldest first in
explicit lists (imapclient's ``fetch`` filters its answer by the ids it was given, so ``1:*``
silently returns nothing). A UIDVALIDITY change means the server renumbered the folder: the
folder is rescanned from UID 1, and Message-IDs remembered from earlier sweeps (``seen``, a
bounded list of short hashes) are skipped without downloading; anything beyond that memory is
re-emitted and the store de-duplicates it by report id (uuid5 of channel and Message-ID).

The size limit is checked with ``RFC822.SIZE`` before a body is downloaded: an oversized message
is handed over with only its header and ``transport_error`` set, so the runtime quarantines it
and the checkpoint moves past it. When the mailbox has nothing new, ``fetch`` waits in IMAP IDLE
(in one-second slices, so a shutdown is honoured promptly) for up to ``idle_timeout`` and returns
as soon as mail arrives. Network errors and timeouts reconnect with exponential backoff.

Login: a password, a fixed XOAUTH2 access token, or an ``oauth2`` section whose tokens are
renewed from the provider's token endpoint as they expire (``ingest.adapters.oauth2``).
"""

from __future__ import annotations

import hashlib
import logging
import mailbox
import ssl
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, model_validator
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_when_event_set,
    wait_exponential,
)

from ingest.adapter import AdapterContext, Batch, ChannelUnhealthy, State
from ingest.adapters.imap_fetch import fetch_messages, uid_set
from ingest.adapters.oauth2 import OAuth2Settings, TokenSource
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import RawMessage
from normalizers.email import message_id_of, normalize

log = logging.getLogger(__name__)

_MIB = 1024 * 1024
_HEADER_ITEM = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
_BODY_ITEMS = ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[]"]
_HEADER_ITEMS = ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]"]


class EmailSettings(ChannelSettings):
    """One IMAP mailbox in ``channels.yaml``."""

    kind: Literal["email"] = "email"
    host: str
    port: Annotated[int | None, Field(gt=0, lt=65536)] = None
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    tls_verify: bool = True
    tls_ca_file: Path | None = Field(
        default=None, description="PEM bundle to trust instead of the system CAs"
    )
    username: str
    password: SecretStr | None = None
    oauth2_token: SecretStr | None = Field(
        default=None, description="a fixed XOAUTH2 access token (they expire: prefer `oauth2`)"
    )
    oauth2: OAuth2Settings | None = Field(
        default=None, description="XOAUTH2 with tokens renewed from the provider's token endpoint"
    )
    folder: str = "INBOX"
    batch_size: Annotated[int, Field(gt=0, le=5000)] = 200
    max_message_bytes: Annotated[int, Field(gt=0)] = 25 * _MIB
    idle: bool = True
    idle_timeout: Annotated[float, Field(ge=0, description="seconds fetch may wait in IDLE")] = 60.0
    reidle_interval: Annotated[
        float,
        Field(gt=0, description="re-issue IDLE this often; servers drop it after ~29 min"),
    ] = 25 * 60
    mark: Literal["none", "seen", "move"] = "none"
    move_to: str | None = None
    timeout: Annotated[float, Field(gt=0, description="socket timeout in seconds")] = 60.0
    reconnect_attempts: Annotated[int, Field(ge=1)] = 5
    dedupe_memory: Annotated[
        int, Field(ge=0, description="Message-ID hashes kept in the checkpoint for rescans")
    ] = 2000

    @model_validator(mode="after")
    def _check(self) -> EmailSettings:
        given = [self.password, self.oauth2_token, self.oauth2]
        if sum(x is not None for x in given) != 1:
            raise ValueError(
                f"channel {self.name!r}: set one of `password`, `oauth2_token` or an `oauth2`"
                " section"
            )
        if self.mark == "move" and not self.move_to:
            raise ValueError(f"channel {self.name!r}: `mark: move` needs `move_to: FOLDER`")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 993 if self.tls == "implicit" else 143


def _imap_errors() -> tuple[type[BaseException], ...]:
    import imaplib

    from imapclient import exceptions

    return (
        OSError,  # includes socket.timeout, ConnectionError, ssl.SSLError
        EOFError,
        imaplib.IMAP4.abort,
        exceptions.IMAPClientAbortError,
    )


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _imap_errors()) and not isinstance(exc, ChannelUnhealthy)


def message_id_key(message_id: str) -> str:
    """The short hash under which a Message-ID is remembered in the checkpoint."""
    return hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class ImapAdapter:
    """Pulls one folder of one IMAP mailbox."""

    def __init__(self, settings: EmailSettings, ctx: AdapterContext) -> None:
        self.settings = settings
        self.ctx = ctx
        self._client: Any = None
        self._uidvalidity: int | None = None
        self._capabilities: set[str] = set()
        self._tokens = (
            TokenSource(
                settings.oauth2,
                channel=settings.name,
                timeout=settings.timeout,
                keep=ctx.data_dir / "oauth2" / f"{settings.name}.json",  # a safe file name
            )
            if settings.oauth2 is not None
            else None
        )

    # ------------------------------------------------------------------ connection

    def _ssl_context(self) -> ssl.SSLContext:
        s = self.settings
        context = ssl.create_default_context(
            cafile=str(s.tls_ca_file) if s.tls_ca_file is not None else None
        )
        if not s.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> Any:
        from imapclient import IMAPClient
        from imapclient.exceptions import LoginError

        s = self.settings
        try:
            client = IMAPClient(
                s.host,
                port=s.effective_port,
                ssl=s.tls == "implicit",
                ssl_context=self._ssl_context() if s.tls == "implicit" else None,
                timeout=s.timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from exc
        _quiet_imaplib(client)
        try:
            if s.tls == "starttls":
                try:
                    client.starttls(self._ssl_context())
                except ssl.SSLCertVerificationError as exc:
                    raise self._untrusted(exc) from exc
            if self._tokens is not None:
                self._oauth2_login(client)
            elif s.oauth2_token is not None:
                client.oauth2_login(s.username, s.oauth2_token.get_secret_value())
            else:
                assert s.password is not None
                client.login(s.username, s.password.get_secret_value())
        except LoginError as exc:
            _safe_logout(client)
            if "UNAVAILABLE" in str(exc):  # RFC 5530: the server's auth backend is down for now
                raise ConnectionError(f"IMAP login temporarily unavailable: {exc}") from exc
            hint = (
                "it refused a freshly issued OAuth2 token too: check the token's scope (IMAP"
                " access) and the mailbox's permissions for this user or app"
                if self._tokens is not None
                else "check the password or renew the OAuth2 token"
            )
            raise ChannelUnhealthy(
                f"email channel {s.name!r}: the IMAP server {s.host} refused the login of"
                f" {s.username!r} ({exc}); {hint}"
            ) from exc
        except BaseException:
            _safe_logout(client)
            raise
        self._capabilities = {
            c.decode() if isinstance(c, bytes) else str(c) for c in client.capabilities()
        }
        readonly = s.mark == "none"
        try:
            info = client.select_folder(s.folder, readonly=readonly)
        except client.Error as exc:
            _safe_logout(client)
            raise ChannelUnhealthy(
                f"email channel {s.name!r}: cannot open folder {s.folder!r} ({exc});"
                " fix `folder` in channels.yaml"
            ) from exc
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        return client

    def _oauth2_login(self, client: Any) -> None:
        """Log in with the current access token; if the server refuses it (revoked, or expired
        before the time the provider announced), once more with a new one."""
        from imapclient.exceptions import LoginError

        assert self._tokens is not None
        try:
            client.oauth2_login(self.settings.username, self._tokens.token())
        except LoginError:
            self._tokens.invalidate()
            client.oauth2_login(self.settings.username, self._tokens.token())

    def _untrusted(self, exc: Exception) -> ChannelUnhealthy:
        s = self.settings
        return ChannelUnhealthy(
            f"email channel {s.name!r}: the certificate of {s.host}:{s.effective_port} is not"
            f" trusted ({exc}); set `tls_ca_file` to the server's CA bundle (or, on a trusted"
            " network only, `tls_verify: false`)"
        )

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception as exc:  # already dead: nothing to clean up
                log.debug("closing a broken IMAP connection: %s", exc)

    def _with_reconnect(self, operation: Any) -> Any:
        """Run ``operation(client)``, reconnecting with backoff after network failures."""

        def _before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "email channel %s: IMAP connection failed (%s); reconnecting (attempt %d)",
                self.settings.name,
                exc,
                state.attempt_number,
            )
            self._drop()

        def _sleep(seconds: float) -> None:
            self.ctx.stop.wait(seconds)

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self.settings.reconnect_attempts)
            | stop_when_event_set(self.ctx.stop),
            wait=wait_exponential(multiplier=0.5, min=0.2, max=30),
            sleep=_sleep,
            before_sleep=_before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if self._client is None:
                        self._client = self._connect()
                    return operation(self._client)
        except BaseException:
            self._drop()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ fetch

    def fetch(self, state: State | None) -> Batch:
        return self._with_reconnect(lambda client: self._fetch(client, state))  # type: ignore[no-any-return]

    def _fetch(self, client: Any, state: State | None) -> Batch:
        s = self.settings
        uidvalidity = self._current_uidvalidity(client)
        seen: list[str] = list((state or {}).get("seen", []))
        if (
            state is None
            or state.get("folder") != s.folder
            or state.get("uidvalidity") != uidvalidity
        ):
            if state is not None and state.get("uidvalidity") not in (None, uidvalidity):
                log.warning(
                    "email channel %s: UIDVALIDITY of %s changed (%s -> %s): rescanning it,"
                    " skipping the %d Message-IDs already seen",
                    s.name,
                    s.folder,
                    state.get("uidvalidity"),
                    uidvalidity,
                    len(seen),
                )
            last_uid = 0
            rescan = state is not None and bool(seen)
        else:
            last_uid = int(state.get("last_uid", 0))
            rescan = bool(state.get("rescan", False))

        uids = self._new_uids(client, last_uid)
        idle_ok = s.idle and s.idle_timeout > 0 and "IDLE" in self._capabilities
        if not uids and idle_ok and self._idle(client, last_uid):
            uids = self._new_uids(client, last_uid)
        batch_uids = uids[: s.batch_size]
        more = len(uids) > len(batch_uids)
        messages: list[RawMessage] = []
        if batch_uids:
            messages, seen = self._download(client, batch_uids, uidvalidity, seen, rescan)
            last_uid = batch_uids[-1]
        new_state: dict[str, Any] = {
            "folder": s.folder,
            "uidvalidity": uidvalidity,
            "last_uid": last_uid,
            "seen": seen,
        }
        if rescan and more:
            new_state["rescan"] = True
        return Batch(messages=messages, state=new_state, more=more)

    def _current_uidvalidity(self, client: Any) -> int:
        """Re-SELECT: a fresh view of the folder (new mail, and a recreated folder's UIDVALIDITY;
        STATUS on the selected folder may answer from the old, stale view)."""
        info = client.select_folder(self.settings.folder, readonly=self.settings.mark == "none")
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        return self._uidvalidity

    def _new_uids(self, client: Any, last_uid: int) -> list[int]:
        # "N:*" always matches the highest UID even when it is below N: filter.
        found = client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def _idle(self, client: Any, last_uid: int) -> bool:
        """Wait in IDLE until new mail, the timeout, or the runtime stopping; True: new mail.

        Each IDLE lasts at most ``reidle_interval``; between two, a SEARCH double-checks, so a
        notification that came with the end of an IDLE (or never came) cannot be missed.
        """
        deadline = time.monotonic() + self.settings.idle_timeout
        while time.monotonic() < deadline and not self.ctx.stop.is_set():
            reidle_at = min(deadline, time.monotonic() + self.settings.reidle_interval)
            client.idle()
            log.debug("email channel %s: IDLE on %s", self.settings.name, self.settings.folder)
            arrived = False
            try:
                while time.monotonic() < reidle_at and not self.ctx.stop.is_set():
                    responses = client.idle_check(timeout=min(1.0, reidle_at - time.monotonic()))
                    if _has_new_mail(responses):
                        arrived = True
                        break
                    if any(r and r[0] == b"BYE" for r in responses):
                        raise ConnectionResetError("the IMAP server ended the IDLE session (BYE)")
            finally:
                _, late = client.idle_done()
            if arrived or _has_new_mail(late) or self._new_uids(client, last_uid):
                return True
        return False

    def _triage_rescan(
        self, client: Any, uids: Sequence[int], seen: set[str]
    ) -> tuple[list[int], list[int]]:
        """After a UIDVALIDITY change: (to download, over the size limit), leaving out the
        messages whose Message-ID was already delivered."""
        s = self.settings
        meta = client.fetch(list(uids), ["RFC822.SIZE", _HEADER_ITEM])
        wanted: list[int] = []
        oversized: list[int] = []
        skipped = 0
        for uid in uids:
            info = meta.get(uid)
            if info is None:  # expunged between SEARCH and FETCH
                continue
            key = _message_id_key_from_header(info)
            if key is not None and key in seen:
                skipped += 1
            elif int(info.get(b"RFC822.SIZE", 0)) > s.max_message_bytes:
                oversized.append(uid)
            else:
                wanted.append(uid)
        if skipped:
            log.info("email channel %s: skipped %d already-seen messages", s.name, skipped)
        return wanted, oversized

    def _download(
        self,
        client: Any,
        uids: Sequence[int],
        uidvalidity: int,
        seen: list[str],
        rescan: bool,
    ) -> tuple[list[RawMessage], list[str]]:
        s = self.settings
        client.normalise_times = False
        seen_set = set(seen)
        if rescan:  # each message's Message-ID first: one already seen is not downloaded again
            wanted, oversized = self._triage_rescan(client, uids, seen_set)
        else:  # only the few over the size limit need telling apart: one SEARCH finds them
            found = client.search(["UID", uid_set(uids), "LARGER", str(s.max_message_bytes)])
            over = set(found).intersection(uids)
            wanted = [uid for uid in uids if uid not in over]
            oversized = [uid for uid in uids if uid in over]
        # size and date come with the body: one response line per message, not two
        bodies = fetch_messages(client, wanted, _BODY_ITEMS)
        headers = fetch_messages(client, oversized, _HEADER_ITEMS)
        messages: list[RawMessage] = []
        for uid in uids:
            if uid in bodies:
                info = bodies[uid]
                payload = _item(info, b"BODY[")
                size = int(info.get(b"RFC822.SIZE", len(payload)))
                error = None
                if size > s.max_message_bytes:  # a server whose SEARCH LARGER missed it
                    error = _too_large(size, s.max_message_bytes)
                    payload = _header_of(payload)
            elif uid in headers:
                info = headers[uid]
                payload = _item(info, b"BODY[HEADER")
                size = int(info.get(b"RFC822.SIZE", 0))
                error = _too_large(size, s.max_message_bytes)
            else:  # expunged since the SEARCH
                continue
            messages.append(
                RawMessage(
                    payload=payload,
                    content_type="message/rfc822",
                    received_at=_stdlib_tz(info.get(b"INTERNALDATE")),
                    meta={
                        "folder": s.folder,
                        "uid": uid,
                        "uidvalidity": uidvalidity,
                        "size": size,
                    },
                    transport_error=error,
                )
            )
            key = _message_id_key_from_payload(payload)
            if key is not None and key not in seen_set:
                seen_set.add(key)
                seen.append(key)
        if s.dedupe_memory and len(seen) > s.dedupe_memory:
            seen = seen[-s.dedupe_memory :]
        elif not s.dedupe_memory:
            seen = []
        return messages, seen

    # ------------------------------------------------------------------ commit / close

    def commit(self, batch: Batch) -> None:
        s = self.settings
        if s.mark == "none":
            return
        uidvalidity = batch.state.get("uidvalidity")
        uids = [
            int(m.meta["uid"])
            for m in batch.messages
            if m.meta.get("uidvalidity") == uidvalidity and "uid" in m.meta
        ]
        if not uids:
            return

        def _mark(client: Any) -> None:
            if self._uidvalidity != uidvalidity:
                return  # the folder was renumbered: these UIDs no longer name these messages
            if s.mark == "seen":
                client.add_flags(uids, [b"\\Seen"], silent=True)
            elif "MOVE" in self._capabilities:
                client.move(uids, s.move_to)
            else:
                client.copy(uids, s.move_to)
                client.add_flags(uids, [b"\\Deleted"], silent=True)
                if "UIDPLUS" in self._capabilities:
                    client.uid_expunge(uids)
                else:
                    client.expunge()

        self._with_reconnect(_mark)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _safe_logout(client)


def _stdlib_tz(value: Any) -> datetime | None:
    """INTERNALDATE with a stdlib ``timezone``: imapclient's own FixedOffset does not pickle,
    and messages cross process boundaries (CPU pool) and land in the quarantine."""
    if not isinstance(value, datetime):
        return None
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=UTC)
    return value.replace(tzinfo=timezone(offset))


def _has_new_mail(responses: Sequence[Any]) -> bool:
    return any(
        isinstance(r, tuple) and len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses
    )


def _quiet_imaplib(client: Any) -> None:
    """Turn imaplib's own tracing off unless its logger would show it.

    IMAPClient sets imaplib's ``debug`` to 5 and routes the trace to the
    ``imapclient.imaplib`` logger, so imaplib formats a message for every line and every
    untagged response, with the ``repr`` of whole message bodies, for the logger to drop: more
    than half the CPU time of fetching a mailbox. With that logger at DEBUG the trace stays.
    """
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


def _too_large(size: int, limit: int) -> str:
    return (
        f"message of {size} bytes is over max_message_bytes ({limit});"
        " quarantined with its header only: raise the limit or fetch it by hand"
    )


def _header_of(payload: bytes) -> bytes:
    """The header section of a raw message (up to and with the blank line that ends it)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = payload.find(sep)
        if end >= 0:
            return payload[: end + len(sep)]
    return payload


def _item(info: dict[bytes, Any], prefix: bytes) -> bytes:
    for key, value in info.items():
        if isinstance(key, bytes) and key.startswith(prefix) and isinstance(value, bytes):
            return value
    return b""


def _message_id_key_from_header(info: dict[bytes, Any]) -> str | None:
    return _message_id_key_from_payload(_item(info, b"BODY[HEADER"))


def _message_id_key_from_payload(payload: bytes) -> str | None:
    """Message-ID of a raw message, found without parsing the MIME structure."""
    head = payload.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for i, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            for cont in lines[i + 1 :]:
                if cont[:1] in (b" ", b"\t"):
                    value += cont
                else:
                    break
            ident = message_id_of(value.decode("ascii", "replace"))
            return message_id_key(ident) if ident else None
    return None


def _safe_logout(client: Any) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception as exc:
            log.debug("IMAP connection already closed: %s", exc)


def make_adapter(settings: ChannelSettings, ctx: AdapterContext) -> ImapAdapter:
    if not isinstance(settings, EmailSettings):
        settings = EmailSettings.model_validate(settings.model_dump())
    return ImapAdapter(settings, ctx)


# ---------------------------------------------------------------------- backfill from files


def read_files(path: Path, settings: ChannelSettings) -> Iterator[RawMessage]:
    """Raw messages from an mbox file, a Maildir, a single ``.eml`` or a folder of ``.eml``."""
    limit = getattr(settings, "max_message_bytes", 25 * _MIB)
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _read_maildir(path, limit)
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*.eml") if p.is_file()):
            yield _from_file(file, limit)
    elif path.is_file() and path.suffix.lower() == ".eml":
        yield _from_file(path, limit)
    elif path.is_file():
        yield from _read_mbox(path, limit)
    else:
        raise FileNotFoundError(
            f"{path}: not found; give an mbox file, a Maildir (with cur/ and new/) or .eml files"
        )


def _limited(
    payload: bytes, limit: int, received_at: datetime | None, meta: dict[str, Any]
) -> RawMessage:
    error = None
    if len(payload) > limit:
        error = f"message of {len(payload)} bytes is over max_message_bytes ({limit})"
        payload = payload.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    return RawMessage(
        payload=payload,
        content_type="message/rfc822",
        received_at=received_at,
        meta=meta,
        transport_error=error,
        filename=meta.get("file"),
    )


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def _from_file(path: Path, limit: int) -> RawMessage:
    return _limited(path.read_bytes(), limit, _mtime(path), {"file": str(path)})


def _read_maildir(path: Path, limit: int) -> Iterator[RawMessage]:
    """Maildir entries oldest delivery first (the file's mtime is its delivery time)."""
    entries: list[tuple[float, str, Path]] = []
    for sub in ("new", "cur"):
        for file in (path / sub).iterdir():
            if file.is_file() and not file.name.startswith("."):
                try:
                    entries.append((file.stat().st_mtime, file.name, file))
                except OSError:
                    continue
    for mtime, name, file in sorted(entries):
        meta = {"maildir": str(path), "key": name.split(":", 1)[0]}
        try:
            payload = file.read_bytes()
        except OSError as exc:
            yield RawMessage(
                payload=b"",
                content_type="message/rfc822",
                meta=meta,
                transport_error=f"unreadable Maildir entry {file}: {exc}",
            )
            continue
        yield _limited(payload, limit, datetime.fromtimestamp(mtime, tz=UTC), meta)


def _read_mbox(path: Path, limit: int) -> Iterator[RawMessage]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for key in box.iterkeys():
            payload = box.get_bytes(key)
            received_at = None
            try:
                from_line = box.get_message(key).get_from()
                received_at = _mbox_date(from_line)
            except (KeyError, ValueError):
                received_at = None
            yield _limited(payload, limit, received_at, {"mbox": str(path), "index": key})
    finally:
        box.close()


def _mbox_date(from_line: str) -> datetime | None:
    """The delivery date of an mbox ``From `` line (asctime, taken as UTC)."""
    parts = from_line.split(None, 1)
    if len(parts) < 2:
        return None
    try:
        parsed = datetime.strptime(parts[1].strip(), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        try:
            return parsedate_to_datetime(parts[1])
        except (TypeError, ValueError):
            return None
    return parsed.replace(tzinfo=UTC)


PLUGIN = ChannelPlugin(
    kind="email",
    settings=EmailSettings,
    normalize=normalize,
    adapter=make_adapter,
    read_files=read_files,
    prefetch=True,
)

__all__ = ["PLUGIN", "EmailSettings", "ImapAdapter", "make_adapter", "read_files"]
