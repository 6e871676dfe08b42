"""Email channel benchmark: a Dovecot mailbox of N generated complaints, read several ways.

    .venv/bin/python bench/email_bench.py [--messages 5000] [--batch-size 500] [--rounds 3]

From an empty checkpoint each time, against the same warm Dovecot (its index is built before
the first timing; the harness is the tests' own, tests/email/email_dovecot.py):

- aduan fetch only: the IMAP adapter alone (transport, size check, checkpoint);
- aduan fetch + email normalizer: plus MIME parsing, decoding, quote stripping, the record,
  without the shared Indonesian enrichment (patched out here only to tell the costs apart);
- aduan fetch + normalize + enrich: the normalizer as the runtime runs it;
- aduan end to end: the runtime's own wiring (``aduan run --until-idle``: raw archive,
  attachment store, embedded queue, store consumer in its own process) to committed store
  rows, with the built-in model cached and the store created as after an installation's first
  start; then the whole ``aduan run --until-idle`` command in a fresh process (interpreter
  start and imports in), as usual (a new mailbox in such an installation) and as an
  installation's first start ever (it creates the store and trains and caches the built-in
  model inside the timing);
- mbsync (isync) syncing the mailbox to a Maildir;
- getmail (getmail6) retrieving it to a Maildir.

mbsync, aduan end to end and the whole command run in ``--rounds`` interleaved rounds (mbsync,
end to end, command, then again), each from nothing: a new Maildir, a new data dir, and for
end to end a new fork server, as at a start of ``aduan run``. mbsync's rate is set by its fsync
per message and swings with the disk (2-3x within minutes on a shared machine), so one run of
each says little; the ratios are given best against best, median against median, and round by
round (the same minute). The breakdown (fetch, normalizer) and getmail, ten times slower than
anything else, run once.

Everything writes under ``--work-dir`` (default: the project's ``var/``, where aduan keeps its
data), so every tool pays the same filesystem.

Prints messages/s for each. The goal: faster than getmail, at least half of mbsync.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "email"))

# the tests' Dovecot harness (not a package: loaded by path, typed loosely here)
_harness: Any = importlib.import_module("email_dovecot")
Dovecot, USER, PASSWORD = _harness.Dovecot, _harness.USER, _harness.PASSWORD
remove_server_dir = _harness.remove_server_dir

PLACES = [
    "Desa Tanjung Raja",
    "Kecamatan Indralaya",
    "Pasar Pangkalan Balai",
    "Desa Sakatiga",
    "Jl. Lintas Timur",
    "Kelurahan Timbangan",
    "Desa Meranjat",
    "SDN 1 Indralaya",
]
ISSUES = [
    "lampu jalan padam",
    "jalan berlubang",
    "sampah menumpuk",
    "air PDAM tidak mengalir",
    "pungutan liar",
    "banjir setinggi lutut",
    "pelayanan KTP lambat",
    "jembatan rusak",
]
NAMES = [
    "Siti Nurhaliza",
    "Budi Santoso",
    "Dewi Lestari",
    "Andi Wijaya",
    "Rina Marlina",
    "Hendra Gunawan",
    "Putri Ayu",
    "Joko Susilo",
]


def complaint(i: int, rng: random.Random) -> bytes:
    name = rng.choice(NAMES)
    issue, place = rng.choice(ISSUES), rng.choice(PLACES)
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=7 * i)
    body = (
        f"Selamat pagi Bapak/Ibu,\r\n\r\nSaya ingin melaporkan {issue} di {place} sejak "
        f"{rng.randint(2, 20)} hari yang lalu. Mohon segera ditindaklanjuti, warga sudah resah.\r\n"
        f"Hubungi saya di 0812-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}.\r\n\r\n"
        "Terima kasih.\r\n\r\nDikirim dari Yahoo Mail di Android\r\n"
    )
    head = (
        f"From: {name} <{name.split()[0].lower()}{i}@warga.test>\r\n"
        f"To: {USER}\r\nSubject: Pengaduan {issue} di {place}\r\n"
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <bench-{i}@warga.test>\r\nMIME-Version: 1.0\r\n"
    )
    if i % 10:  # nine in ten: plain text
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
    photo = base64.encodebytes(rng.randbytes(rng.randint(20_000, 60_000))).decode()
    return (
        head + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "--B\r\n"
        f'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="foto-{i}.jpg"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + photo.replace("\n", "\r\n") + "--B--\r\n"
    ).encode()


def fill_maildir(server: Any, count: int) -> int:
    """Write the messages straight into the Maildir (APPENDing 5,000 would dominate the run)."""
    rng = random.Random(20261123)
    cur = server.maildir / "cur"
    for sub in ("cur", "new", "tmp"):
        (server.maildir / sub).mkdir(parents=True, exist_ok=True)
    total = 0
    base = int(time.time()) - count
    for i in range(count):
        data = complaint(i, rng)
        total += len(data)
        path = cur / f"{base + i}.M{i}P1.bench,S={len(data)}:2,"
        path.write_bytes(data)
        os.utime(path, (base + i, base + i))
    if os.getuid() == 0:
        owner = (server.root / "mail").stat()
        for dirpath, dirnames, filenames in os.walk(server.root / "mail"):
            for entry in dirnames + filenames:
                os.chown(os.path.join(dirpath, entry), owner.st_uid, owner.st_gid)
    with server.client() as imap:  # build Dovecot's index now, outside every timing
        info = imap.select_folder("INBOX", readonly=True)
        assert info[b"EXISTS"] == count, info
        imap.search(["ALL"])
    return total


def bench_fetch_normalize(
    server: Any, data_dir: Path, batch_size: int, mode: str
) -> tuple[int, float]:
    """From an empty checkpoint through the adapter; ``mode``: what is done with each message.

    ``fetch``: nothing (the transport alone); ``email``: the email normalizer without the shared
    enrichment (another module, patched out here only to tell the two costs apart); ``full``:
    the email normalizer with the shared Indonesian enrichment, as the runtime runs it.
    """
    import normalizers.email as email_normalizer
    from ingest.adapter import AdapterContext
    from ingest.adapters.email import PLUGIN, EmailSettings
    from ingest.classifier import default_classifier
    from normalizers.base import NormalizeContext, Normalized, build_report
    from normalizers.office import DEFAULT_OFFICE

    settings = EmailSettings(
        name="bench",
        kind="email",
        host="127.0.0.1",
        port=server.port,
        tls="none",
        username=USER,
        password=PASSWORD,
        batch_size=batch_size,
        idle=False,
    )
    assert PLUGIN.adapter is not None
    adapter = PLUGIN.adapter(settings, AdapterContext("bench", data_dir, DEFAULT_OFFICE))
    classifier = default_classifier(data_dir / "models") if mode == "full" else None
    if mode == "email":

        def no_enrichment(fields: Any, ctx: Any, blobs: Any = None) -> Any:
            return build_report(fields, ctx, blobs=blobs, enrich=False)

        setattr(email_normalizer, "build_report", no_enrichment)  # noqa: B010
    done = 0
    started = time.perf_counter()
    state = None
    try:
        while True:
            batch = adapter.fetch(state)
            for raw in batch.messages:
                if mode == "fetch":
                    done += 1
                    continue
                ctx = NormalizeContext(
                    channel_name="bench",
                    channel_kind="email",
                    ingested_at=datetime.now(UTC),
                    raw_uri="file:///dev/null",
                    raw_sha256=raw.sha256,
                    classifier=classifier,
                )
                done += sum(isinstance(o, Normalized) for o in PLUGIN.normalize(raw, ctx))
            state = batch.state
            if not batch.more:
                break
    finally:
        setattr(email_normalizer, "build_report", build_report)  # noqa: B010
    elapsed = time.perf_counter() - started
    adapter.close()
    return done, elapsed


def _end_to_end_config(server: Any, work: Path, batch_size: int) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    config = work / "channels.yaml"
    config.write_text(
        f"""office:
  name: Diskominfo Bench
  region: {{province: Sumatera Selatan, regency: Ogan Ilir}}
data_dir: {work / "var"}
queue: {{url: embedded}}
channels:
  - name: bench-inbox
    kind: email
    host: 127.0.0.1
    port: {server.port}
    tls: none
    username: {USER}
    password: {PASSWORD}
    batch_size: {batch_size}
    idle: false
""",
        encoding="utf-8",
    )
    return config


def bench_end_to_end(server: Any, work: Path, batch_size: int) -> tuple[int, float]:
    """The runtime's own path, wired as `aduan run --until-idle` wires it, to committed rows."""
    from sqlalchemy import text

    from ingest.classifier import default_classifier
    from ingest.config import load_config
    from ingest.pipeline import Pipeline
    from ingest.runtime import Runtime
    from ingest.storeproc import StoreProcess
    from sinks.db import make_engine, migrate
    from sinks.state import CheckpointStore

    config = _end_to_end_config(server, work, batch_size)
    cfg = load_config(config)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    # an installation's first start trained the built-in model (timed by bench_command)
    default_classifier(cfg.data_dir / "models")
    _stop_forkserver()  # the children start from a new fork server, as in a new `aduan run`
    started = time.perf_counter()
    store = StoreProcess(cfg)  # as `aduan run` does: the store in its own process
    store.start()
    try:
        with Pipeline.open(cfg, migrate=False) as pipeline:
            Runtime(cfg, pipeline, CheckpointStore(engine)).run_until_idle()
        code = store.finish()
        assert code == 0, f"store process exited with {code}"
    finally:
        store.stop()
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    engine.dispose()
    return int(rows), elapsed


def _stop_forkserver() -> None:
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)  # CPython's own, private
    if stop is not None:
        stop()


def bench_command(
    server: Any, work: Path, batch_size: int, *, warm: bool = True
) -> tuple[int, float]:
    """The whole `aduan run --until-idle` command in a fresh process (interpreter start-up and
    imports included), in an installation that has run before (``warm``: its model trained
    and cached, its store created; a new mailbox channel) or on its first start ever."""
    from sqlalchemy import text

    from ingest.classifier import default_classifier
    from ingest.config import load_config
    from sinks.db import make_engine, migrate

    config = _end_to_end_config(server, work, batch_size)
    cfg = load_config(config)
    if warm:  # as after the installation's first start: the model trained, the store created
        default_classifier(cfg.data_dir / "models")
        engine = make_engine(cfg.store_url)
        migrate(engine)
        engine.dispose()
    aduan = Path(sys.executable).with_name("aduan")
    started = time.perf_counter()
    subprocess.run([str(aduan), "run", "--until-idle", "-c", str(config)], check=True)
    elapsed = time.perf_counter() - started
    engine = make_engine(cfg.store_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    engine.dispose()
    return int(rows), elapsed


def bench_mbsync(server: Any, work: Path, run: str) -> tuple[int, float]:
    target = work / f"mbsync-maildir-{run}"
    target.mkdir()
    rc = work / f"mbsyncrc-{run}"
    rc.write_text(
        f"""IMAPAccount bench
Host 127.0.0.1
Port {server.port}
User {USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore remote
Account bench

MaildirStore local
Path {target}/
Inbox {target}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
"""
    )
    started = time.perf_counter()
    subprocess.run(["mbsync", "-q", "-c", str(rc), "bench"], check=True)
    elapsed = time.perf_counter() - started
    count = sum(1 for sub in ("cur", "new") for _ in (target / "INBOX" / sub).iterdir())
    return count, elapsed


def bench_getmail(server: Any, work: Path) -> tuple[int, float]:
    target = work / "getmail-maildir"
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True)
    gdir = work / "getmail"
    gdir.mkdir()
    rc = gdir / "getmailrc"
    user_line = ""
    if os.getuid() == 0:  # getmail refuses to deliver as root: deliver as nobody
        import pwd

        nobody = pwd.getpwnam("nobody")
        for path in [target, *target.iterdir()]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        user_line = "user = nobody\n"
    rc.write_text(
        f"""[retriever]
type = SimpleIMAPRetriever
server = 127.0.0.1
port = {server.port}
username = {USER}
password = {PASSWORD}
mailboxes = ("INBOX",)

[destination]
type = Maildir
path = {target}/
{user_line}
[options]
read_all = true
delete = false
verbose = 0
message_log_syslog = false
"""
    )
    started = time.perf_counter()
    done = subprocess.run(["getmail", f"--getmaildir={gdir}", f"--rcfile={rc}"], check=False)
    elapsed = time.perf_counter() - started
    count = sum(1 for sub in ("cur", "new") for _ in (target / sub).iterdir())
    if done.returncode != 0:  # under load its delivery child can time out: count what landed
        print(f"getmail exited with {done.returncode}; {count} messages delivered", flush=True)
    return count, elapsed


MBSYNC = "mbsync (isync) -> Maildir"
END_TO_END = "aduan end-to-end (store rows)"
COMMAND = "aduan run --until-idle command"
FIRST_START = "aduan run, first start ever"


def summarize(rounds: dict[str, list[float]], rates: dict[str, float], getmail: float) -> None:
    """Every figure against mbsync's (best, median, round by round) and against getmail's."""
    mbsync = rounds[MBSYNC]
    print(
        f"\nmbsync over {len(mbsync)} round(s): "
        + ", ".join(f"{rate:.0f}" for rate in mbsync)
        + f" msg/s (best {max(mbsync):.0f}, median {statistics.median(mbsync):.0f})"
    )
    print("goal: >= 0.5 x mbsync, > 1 x getmail")
    for label in (END_TO_END, COMMAND):
        ours = rounds[label]
        if len(ours) != len(mbsync):
            print(f"{label:32s} incomplete ({len(ours)} of {len(mbsync)} rounds)")
            continue
        by_round = " ".join(f"{a / b:.2f}" for a, b in zip(ours, mbsync, strict=True))
        print(
            f"{label:32s} best {max(ours):6.0f} median {statistics.median(ours):6.0f} msg/s | "
            f"x mbsync: best/best {max(ours) / max(mbsync):.2f}, "
            f"median/median {statistics.median(ours) / statistics.median(mbsync):.2f}, "
            f"by round {by_round} | x getmail {max(ours) / getmail:.1f}"
        )
    for label, rate in rates.items():
        if label.startswith("aduan") and label not in (END_TO_END, COMMAND):
            print(
                f"{label:32s} {rate:6.0f} msg/s | x best mbsync {rate / max(mbsync):.2f} | "
                f"x getmail {rate / getmail:.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=ROOT / "var",
        help="where the mailbox and every Maildir/data dir go (default: the project's var/, "
        "where aduan keeps its data; all tools write to the same filesystem)",
    )
    args = parser.parse_args()
    batch = args.batch_size

    for tool in ("dovecot", "mbsync", "getmail"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            sys.exit(f"{tool} is not installed (apt-get install dovecot-imapd isync getmail6)")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aduan-email-bench-", dir=args.work_dir))
    work.chmod(0o711)
    server = Dovecot(root=work / "dovecot", binary=shutil.which("dovecot") or "/usr/sbin/dovecot")
    server.root.mkdir()
    try:
        server.start()
        size = fill_maildir(server, args.messages)
        print(
            f"mailbox: {args.messages} messages, {size / 1e6:.1f} MB "
            f"(1 in 10 with a 20-60 kB photo); Dovecot {server.port}",
            flush=True,
        )
        rates: dict[str, float] = {}

        def record(label: str, count: int, elapsed: float) -> float:
            rates[label] = count / elapsed
            print(
                f"{label:32s} {count:6d} msgs {elapsed:7.2f} s {count / elapsed:8.0f} msg/s",
                flush=True,
            )
            return count / elapsed

        # interleaved rounds, so a change in the machine's speed shows in every tool's figures
        rounds: dict[str, list[float]] = {MBSYNC: [], END_TO_END: [], COMMAND: []}
        for n in range(1, args.rounds + 1):
            print(f"-- round {n} of {args.rounds}", flush=True)
            rounds[MBSYNC].append(record(MBSYNC, *bench_mbsync(server, work, f"r{n}")))
            if args.skip_end_to_end:
                continue
            for label, bench in (
                (END_TO_END, partial(bench_end_to_end, server, work / f"e2e-{n}", batch)),
                (COMMAND, partial(bench_command, server, work / f"cmd-{n}", batch)),
            ):
                try:
                    rounds[label].append(record(label, *bench()))
                except Exception as exc:  # keep the comparison figures even if one breaks
                    print(f"{label} failed: {type(exc).__name__}: {exc}", flush=True)
        print("-- once", flush=True)
        for label, mode in (
            ("aduan fetch only (adapter)", "fetch"),
            ("aduan fetch+email normalizer", "email"),
            ("aduan fetch+normalize+enrich", "full"),
        ):
            record(label, *bench_fetch_normalize(server, work, args.batch_size, mode))
        if not args.skip_end_to_end:
            try:
                record(FIRST_START, *bench_command(server, work / "cmd-cold", batch, warm=False))
            except Exception as exc:
                print(f"{FIRST_START} failed: {type(exc).__name__}: {exc}", flush=True)
        getmail = record("getmail6 -> Maildir", *bench_getmail(server, work))
        summarize(rounds, rates, getmail)
    finally:
        server.stop(graceful=False)
        remove_server_dir(server.root)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
