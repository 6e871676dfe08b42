"""channels.yaml: one-line errors with file:line and field, typo suggestions, secrets never shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.adapters.email import EmailSettings
from ingest.config import ConfigError, load_config

OFFICE = """\
office:
  name: Diskominfo Ogan Ilir
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
"""

CSV_CHANNEL = """\
  - name: buku
    kind: csv
    path: buku.csv
    columns: {text: Isi}
"""


def write(tmp_path: Path, text: str, name: str = "channels.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return [p.replace(f"{path.parent}/", "") for p in info.value.problems]


def test_valid_config_resolves_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, OFFICE + "channels:\n" + CSV_CHANNEL), env={})
    assert cfg.office.timezone == "Asia/Jakarta"
    assert cfg.queue_url == "embedded"
    assert cfg.data_dir == (tmp_path / "var").resolve()
    assert cfg.store_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'aduan.db'}"
    assert [c.name for c in cfg.channels] == ["buku"]
    assert cfg.channel("buku").poll_interval == 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a typo in a kind-specific field: line of the key, closest valid key suggested
        (
            OFFICE + "channels:\n" + CSV_CHANNEL + "    colums: {}\n",
            "channels.yaml:9: channels[0]: unknown field 'colums' (did you mean 'columns'?)",
        ),
        (
            OFFICE
            + "channels:\n"
            + CSV_CHANNEL
            + CSV_CHANNEL.replace("buku", "b2")
            + "    pol_interval: 5\n",
            "channels.yaml:13: channels[1]: unknown field 'pol_interval' (did you mean 'poll_interval'?)",
        ),
        # a typo at the top level and inside the office block
        (
            OFFICE + "qeueu: {url: embedded}\n",
            "channels.yaml:4: (top level): unknown field 'qeueu' (did you mean 'queue'?)",
        ),
        (
            OFFICE + "  timezon: Asia/Jakarta\n",
            "channels.yaml:4: office: unknown field 'timezon' (did you mean 'timezone'?)",
        ),
        # a bad value names the field
        (
            OFFICE + "channels:\n" + CSV_CHANNEL + "    poll_interval: -3\n",
            "channels.yaml:9: channels[0].poll_interval: Input should be greater than 0",
        ),
        (
            OFFICE.replace("Diskominfo", "X") + "  timezone: Mars/Olympus\n",
            "channels.yaml:4: office.timezone: Value error, unknown timezone",
        ),
        # a missing required field, an unknown kind, a duplicate name
        (
            OFFICE + "channels:\n  - name: x\n    kind: csv\n    path: a.csv\n",
            "channels.yaml:5: channels[0]: missing required field 'columns'",
        ),
        (
            OFFICE + "channels:\n  - name: x\n    kind: telegram\n",
            "channels.yaml:6: channels[0].kind: unknown channel kind 'telegram'",
        ),
        (
            OFFICE + "channels:\n" + CSV_CHANNEL + CSV_CHANNEL,
            "channels.yaml:9: channels[1].name: duplicate channel name 'buku'",
        ),
        ("office: [1, 2\n", "channels.yaml:2: not valid YAML"),
        ("channels: []\n", "channels.yaml:1: (top level): missing required field 'office'"),
    ],
)
def test_errors_are_one_line_with_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    found = problems(write(tmp_path, text))
    assert any(p.startswith(expected) for p in found), found
    assert all("\n" not in p for p in found)


def test_env_interpolation_with_defaults(tmp_path: Path) -> None:
    text = OFFICE + "queue:\n  url: amqp://aduan:${AMQP_PASS}@${AMQP_HOST:-127.0.0.1}:5672//\n"
    cfg = load_config(write(tmp_path, text), env={"AMQP_PASS": "s3cr3t-pw"})
    assert cfg.queue_url == "amqp://aduan:s3cr3t-pw@127.0.0.1:5672//"
    assert cfg.redact(cfg.queue_url) == "amqp://aduan:***@127.0.0.1:5672//"


def test_missing_env_var_is_reported_by_name_and_line(tmp_path: Path) -> None:
    text = OFFICE + "queue:\n  url: amqp://u:${NOPE}@h//\n"
    assert problems(write(tmp_path, text)) == [
        "channels.yaml:5: queue.url: environment variable NOPE is not set (set it, or write ${NOPE:-default})"
    ]


SECRET = "Zx9-very-secret-token-4242"


def test_planted_secret_never_appears_in_errors_or_logs(tmp_path: Path) -> None:
    """A secret from the environment must not leak through validation errors, check-config or logs."""
    bad = (
        OFFICE
        + "queue:\n  url: ${QUEUE_URL}\nchannels:\n"
        + CSV_CHANNEL
        + "    poll_interval: ${QUEUE_URL}\n"
    )
    path = write(tmp_path, bad)
    env = {"QUEUE_URL": SECRET, "PATH": "/usr/bin:/bin"}
    found = problems(path, env)
    assert found and not any(SECRET in p for p in found)

    good = write(
        tmp_path,
        OFFICE + "queue:\n  url: amqp://u:${QUEUE_PASS}@127.0.0.1:1//\nchannels:\n" + CSV_CHANNEL,
        "good.yaml",
    )
    aduan = [sys.executable, "-m", "ingest.cli"]
    for args in (
        ["check-config", str(good)],
        ["check-config", str(path)],
        ["quarantine", "list", "-c", str(good)],
    ):
        out = subprocess.run(
            [*aduan, *args],
            env={**env, "QUEUE_PASS": SECRET},
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert SECRET not in out.stdout + out.stderr, args
    # and the failing one says why
    out = subprocess.run(
        [*aduan, "check-config", str(path)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert (
        "channels.yaml:11: channels[0].poll_interval: Input should be a valid number" in out.stderr
    )


def test_shipped_example_configs_are_valid() -> None:
    """The configs we hand to offices must load: docs that drift from the code are caught here."""
    root = Path(__file__).resolve().parents[2]
    env = {
        name: "x-secret-value"
        for name in (
            "AMQP_PASSWORD",
            "PG_PASSWORD",
            "IMAP_PASSWORD",
            "M365_TENANT_ID",
            "M365_CLIENT_ID",
            "M365_CLIENT_SECRET",
            "X_BEARER_TOKEN",
            "FB_PAGE_TOKEN",
            "FB_APP_SECRET",
            "FB_VERIFY_TOKEN",
            "SMS_SECRET",
        )
    }
    production = load_config(root / "deploy" / "channels.production.yaml", env=env)
    m365 = production.channel("surel-m365")
    assert isinstance(m365, EmailSettings) and m365.oauth2 is not None
    assert m365.oauth2.refresh_token is None  # the client-credentials grant
    assert {c.kind for c in production.channels} == {
        "email",
        "twitter",
        "facebook",
        "instagram",
        "transcript",
        "form",
        "sms",
        "web",
        "csv",
    }
    demo = load_config(root / "samples" / "demo.yaml", env={})
    assert [c.name for c in demo.channels] == ["buku-pengaduan", "call-center", "kotak-pengaduan"]
