"""A real Dovecot for the email tests and the bench, on a loopback port under a given directory.

Everything Dovecot needs (config, passwd-file, Maildir, base_dir/state_dir, log file) lives in
the test's own directory; nothing touches /etc/dovecot or syslog. Run as an ordinary user,
Dovecot runs all its processes as that user. Run as root (containers), it insists on unprivileged
users for its login and mail processes, so the mail tree is handed to the ``dovecot`` system user
(see ``server_dir`` for where the files then live).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_tool(name: str) -> str:
    """As tests/conftest.py's: skip locally, fail in CI (that module is not importable here)."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        message = f"{name} is not installed (.ci/run installs it with apt-get)"
        if IN_CI:
            pytest.fail(f"required in CI: {message}")
        pytest.skip(message)
    assert path is not None
    return path


USER = "pengaduan@diskominfo.test"
PASSWORD = "rahasia-123"


def complaint(n: int, *, body: str | None = None, message_id: bool = True) -> bytes:
    """Citizen complaint number ``n`` as raw RFC 5322 bytes (subject "Pengaduan n")."""
    text = body or f"Laporan nomor {n}: lampu jalan di Desa Tanjung Raja padam sejak seminggu."
    mid = f"Message-ID: <aduan-{n}@warga.test>\r\n" if message_id else ""
    return (
        f"From: Warga {n} <warga{n}@warga.test>\r\n"
        f"To: {USER}\r\n"
        f"Subject: Pengaduan {n}\r\n"
        f"Date: Mon, 23 Nov 2026 09:{n % 60:02d}:00 +0700\r\n"
        f"{mid}"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{text}\r\n"
    ).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    """One Dovecot instance; ``stop``/``start`` keep its mailbox (a server restart)."""

    root: Path
    binary: str
    tls: bool = False
    #: with ``tls``: serve the plain port and require STARTTLS instead of implicit TLS
    starttls: bool = False
    #: appended to the generated config (e.g. ``imap_capability`` without IDLE)
    extra: str = ""
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def cert(self) -> Path:
        return self.root / "cert.pem"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / "pengaduan" / "Maildir"

    def write_config(self) -> None:
        root = self.root
        (root / "base").mkdir(parents=True, exist_ok=True)
        (root / "state").mkdir(exist_ok=True)
        (root / "mail").mkdir(exist_ok=True)
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            uid, gid = owner.pw_uid, owner.pw_gid
            internal, login = "dovecot", "dovenull"
            os.chown(root / "mail", uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(uid).pw_name
        passwd = root / "passwd"
        passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/mail/pengaduan\n")
        passwd.chmod(0o644)
        ssl_conf = "ssl = no"
        if self.tls:
            ssl_conf = f"ssl = required\nssl_cert = <{self.cert}\nssl_key = <{root / 'key.pem'}\n"
        listener = (
            f"inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.port}\n"
            "    ssl = yes\n  }\n  inet_listener imap {\n    port = 0\n  }"
            if self.tls and not self.starttls
            else f"inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}\n"
            "  inet_listener imaps {\n    port = 0\n  }"
        )
        self.conf.write_text(
            f"""# written by tests/email/email_dovecot.py
protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
instance_name = aduan-test-{self.port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl_conf}
disable_plaintext_auth = {"yes" if self.starttls else "no"}
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = {min(uid, 500)}
{"" if self.starttls else "login_trusted_networks = 127.0.0.0/8"}
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
service imap-login {{
  {listener}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{self.extra}
"""
        )

    def start(self) -> None:
        if not self.conf.exists():
            self.write_config()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: see stop(graceful=False)
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if (self.tls and not self.starttls) or sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not come up on port {self.port}:\n{self.log()}")

    def stop(self, *, wait_port: bool = False, graceful: bool = True) -> None:
        """Stop the server; ``wait_port`` also waits until its port can be bound again.

        ``graceful=False`` kills the whole process group at once (teardown: the mailbox is
        thrown away anyway, and a clean shutdown costs a second per test).
        """
        if self.process is None:
            return
        if not graceful:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        if not wait_port:
            return
        # the master's children exit right behind it; wait until the port is free again
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                time.sleep(0.05)
            except OSError:
                return

    def kick(self) -> bool:
        """Drop every IMAP session of the user, as a server-side disconnect.

        True when a session was kicked (doveadm exits 68 when nobody was logged in).
        """
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        for _ in range(20):  # anvil may be (re)starting: give it a moment
            done = subprocess.run(
                [doveadm, "-c", str(self.conf), "kick", USER], check=False, capture_output=True
            )
            if b"net_connect_unix" not in done.stderr:
                break
            time.sleep(0.1)
        if done.returncode not in (0, 68):
            raise RuntimeError(f"doveadm kick failed: {done.stderr.decode(errors='replace')}")
        return done.returncode == 0

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> IMAPClient:
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.cert))
            if self.starttls:
                imap = IMAPClient("127.0.0.1", port=self.port, ssl=False)
                imap.starttls(context)
            else:
                imap = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=context)
        else:
            imap = IMAPClient("127.0.0.1", port=self.port, ssl=False)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        with self.client() as imap:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            for message in messages:
                imap.append(folder, message)


def server_dir(link: Path) -> Path:
    """The directory for one Dovecot, reachable at ``link``.

    As root, Dovecot's unprivileged processes must traverse every directory above their files,
    and pytest keeps /tmp/pytest-of-root at mode 0700 (re-applying it whenever any pytest run
    starts), so the real directory is a 0711 one directly under the system temp dir and ``link``
    points at it; ``remove_server_dir`` deletes both.
    """
    if os.getuid() != 0:
        link.mkdir(parents=True)
        return link
    real = Path(tempfile.mkdtemp(prefix="aduan-dovecot-"))
    real.chmod(0o711)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(real, target_is_directory=True)
    return real


def remove_server_dir(root: Path) -> None:
    if root.name.startswith("aduan-dovecot-"):
        shutil.rmtree(root, ignore_errors=True)


def make_cert(root: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (also usable as its own CA file)."""
    openssl = need_tool("openssl")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    (root / "key.pem").chmod(0o600)


def oauth2_config(root: Path, secret: bytes) -> str:
    """Config lines making Dovecot accept XOAUTH2 bearer tokens: HS256 JWTs signed by ``secret``.

    Dovecot validates them locally (no introspection server): the key lives in a dict file.
    """
    import base64

    keys = root / "keys" / "default" / "HS256"
    keys.mkdir(parents=True)
    (keys / "default").write_text(base64.b64encode(secret).decode())
    for path in (root / "keys", root / "keys" / "default", keys):
        path.chmod(0o755)
    (keys / "default").chmod(0o644)
    conf = root / "oauth2.conf.ext"
    conf.write_text(
        "introspection_mode = local\n"
        f"local_validation_key_dict = fs:posix:prefix={root}/keys/\n"
        "username_attribute = sub\n"
    )
    conf.chmod(0o644)
    return (
        "auth_mechanisms = plain login xoauth2 oauthbearer\n"
        f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {conf}\n}}\n"
    )


def make_jwt(secret: bytes, subject: str, lifetime: int = 600) -> str:
    """An HS256 JWT, as an OAuth2 provider would issue for ``subject``."""
    import base64
    import hashlib
    import hmac
    import json

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": subject, "iat": now, "nbf": now, "exp": now + lifetime}
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"
