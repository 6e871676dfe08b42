"""``channels.yaml``: loading, ``${ENV}`` interpolation and validation at the edge.

Why the care: the people who edit this file are office staff, not developers. Every problem is
reported as one line ``file:line: path: message``, a typo gets the closest valid key suggested,
and a value that came from the environment (a password, a token) never appears in any message:
errors are built from our own words and the field path, never from the offending input.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.registry import ChannelPlugin, ChannelSettings, UnknownKind, get_plugin
from normalizers.office import OfficeProfile

DEFAULT_CONFIG_PATH = Path("channels.yaml")
CONFIG_ENV = "ADUAN_CONFIG"

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Path_ = tuple[str | int, ...]


class ConfigError(Exception):
    """channels.yaml is not usable; ``problems`` holds one ``file:line: path: message`` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSection(_Section):
    url: str = Field(
        default="embedded",
        description='"embedded" (a durable SQLite queue under data_dir) or a kombu URL such as '
        "amqp://user:pass@host:5672//",
    )


class StoreSection(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite under data_dir; "
        "postgresql+psycopg://user@host/db for PostgreSQL",
    )
    batch_size: int = Field(default=500, gt=0)


class HttpSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None


class MetricsSection(_Section):
    port: int | None = Field(default=None, ge=0, le=65535, description="Prometheus exporter port")


class ConfigFile(_Section):
    """The top level of channels.yaml (channels are validated per kind afterwards)."""

    office: OfficeProfile
    data_dir: str = "./var"
    queue: QueueSection = Field(default_factory=QueueSection)
    store: StoreSection = Field(default_factory=StoreSection)
    http: HttpSection = Field(default_factory=HttpSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    channels: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class AppConfig:
    """A validated configuration, with paths resolved and secrets known for redaction."""

    source: Path
    office: OfficeProfile
    data_dir: Path
    queue_url: str
    store_url: str
    store_batch_size: int
    http: HttpSection
    metrics: MetricsSection
    channels: Sequence[ChannelSettings]
    plugins: Mapping[str, ChannelPlugin] = field(repr=False)
    #: values that came from the environment: never to be printed
    secrets: frozenset[str] = field(default=frozenset(), repr=False)

    def channel(self, name: str) -> ChannelSettings:
        for ch in self.channels:
            if ch.name == name:
                return ch
        known = ", ".join(c.name for c in self.channels) or "none configured"
        raise KeyError(f"no channel named {name!r} in {self.source} (channels: {known})")

    def plugin(self, channel: ChannelSettings) -> ChannelPlugin:
        return self.plugins[channel.kind]

    @property
    def enabled_channels(self) -> list[ChannelSettings]:
        return [c for c in self.channels if c.enabled]

    def redact(self, text: str) -> str:
        """Replace every secret value in ``text`` (for log lines and error messages)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


# --- YAML with line numbers -------------------------------------------------------------------


@dataclass
class _Loaded:
    data: Any
    lines: dict[Path_, int]
    secrets: set[str]
    problems: list[str]
    scalars: yaml.SafeLoader = field(default_factory=lambda: yaml.SafeLoader(""))


def _construct(
    node: yaml.Node, path: Path_, out: _Loaded, env: Mapping[str, str], fname: str
) -> Any:
    out.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out.lines[(*path, key)] = key_node.start_mark.line + 1
            if key in result:
                out.problems.append(
                    f"{fname}:{key_node.start_mark.line + 1}: {_fmt(path)}: duplicate key {key!r}"
                )
            result[key] = _construct(value_node, (*path, key), out, env, fname)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), out, env, fname) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = out.scalars.construct_object(node)  # the safe loader's rules: ints, bools, dates, null
    if isinstance(value, str) and "${" in value:
        return _interpolate(value, path, out, env, fname, node.start_mark.line + 1)
    return value


def _interpolate(
    value: str, path: Path_, out: _Loaded, env: Mapping[str, str], fname: str, line: int
) -> str:
    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            got = env[name]
            out.secrets.add(got)  # anything from the environment may be a secret
        elif default is not None:
            got = default
        else:
            out.problems.append(
                f"{fname}:{line}: {_fmt(path)}: environment variable {name} is not set "
                f"(set it, or write ${{{name}:-default}})"
            )
            return ""
        return got

    return _VAR.sub(sub, value)


def _fmt(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line(lines: Mapping[Path_, int], path: Path_) -> int:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return 1


def _model_fields(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """Valid keys at ``path`` inside ``model`` (for "did you mean")."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        ann = info.annotation
        current = next(
            (
                a
                for a in (ann, *getattr(ann, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _explain(
    exc: ValidationError,
    model: type[BaseModel],
    prefix: Path_,
    lines: Mapping[Path_, int],
    fname: str,
) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        full = (*prefix, *loc)
        line = _line(lines, full)
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            options = _model_fields(model, loc[:-1])
            close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else (f" (valid: {', '.join(options)})" if options else "")
            )
            problems.append(f"{fname}:{line}: {_fmt(full[:-1])}: unknown field {key!r}{hint}")
        elif err["type"] == "missing":
            problems.append(
                f"{fname}:{line}: {_fmt(full[:-1])}: missing required field {str(loc[-1])!r}"
            )
        else:
            # err["msg"] is pydantic's wording of the rule; it does not quote the input value.
            problems.append(f"{fname}:{line}: {_fmt(full)}: {err['msg']}")
    return problems


def load_config(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    plugins: Mapping[str, ChannelPlugin] | None = None,
) -> AppConfig:
    """Read and validate channels.yaml. Raises ConfigError listing every problem found."""
    env = os.environ if env is None else env
    source = Path(path if path is not None else env.get(CONFIG_ENV, DEFAULT_CONFIG_PATH))
    fname = str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{fname}: file not found (copy channels.yaml from the project and edit it)"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{fname}: cannot read: {exc.strerror}"]) from None
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigError([f"{fname}:{line}: not valid YAML: {exc.problem}"]) from None
    loaded = _Loaded(data=None, lines={}, secrets=set(), problems=[])
    if root is None:
        raise ConfigError([f"{fname}:1: the file is empty (it needs at least an 'office' block)"])
    loaded.data = _construct(root, (), loaded, env, fname)
    if not isinstance(loaded.data, dict):
        raise ConfigError([f"{fname}:1: the top level must be a mapping (office:, channels:, …)"])
    problems = list(loaded.problems)
    try:
        top = ConfigFile.model_validate(loaded.data)
    except ValidationError as exc:
        raise ConfigError(problems + _explain(exc, ConfigFile, (), loaded.lines, fname)) from None

    channels: list[ChannelSettings] = []
    used: dict[str, ChannelPlugin] = {}
    seen: set[str] = set()
    for i, raw in enumerate(top.channels):
        prefix: Path_ = ("channels", i)
        line = _line(loaded.lines, prefix)
        if not isinstance(raw, dict):
            problems.append(
                f"{fname}:{line}: {_fmt(prefix)}: a channel must be a mapping with name and kind"
            )
            continue
        kind = raw.get("kind")
        if not isinstance(kind, str):
            problems.append(f"{fname}:{line}: {_fmt(prefix)}: missing required field 'kind'")
            continue
        try:
            plugin = get_plugin(kind, plugins)
        except UnknownKind as exc:
            kline = _line(loaded.lines, (*prefix, "kind"))
            problems.append(f"{fname}:{kline}: {_fmt(prefix)}.kind: {exc}")
            continue
        except (ImportError, TypeError) as exc:
            problems.append(f"{fname}:{line}: {_fmt(prefix)}.kind: {exc}")
            continue
        try:
            settings = plugin.settings.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_explain(exc, plugin.settings, prefix, loaded.lines, fname))
            continue
        if settings.name in seen:
            problems.append(
                f"{fname}:{_line(loaded.lines, (*prefix, 'name'))}: {_fmt(prefix)}.name: "
                f"duplicate channel name {settings.name!r} (names identify channels in report ids)"
            )
            continue
        seen.add(settings.name)
        used[kind] = plugin
        channels.append(settings)
    if problems:
        raise ConfigError(problems)

    data_dir = Path(top.data_dir)
    if not data_dir.is_absolute():
        data_dir = (source.parent / data_dir).resolve()
    store_url = top.store.url or f"sqlite:///{data_dir / 'aduan.db'}"
    return AppConfig(
        source=source,
        office=top.office,
        data_dir=data_dir,
        queue_url=top.queue.url,
        store_url=store_url,
        store_batch_size=top.store.batch_size,
        http=top.http,
        metrics=top.metrics,
        channels=channels,
        plugins=used,
        secrets=frozenset(s for s in loaded.secrets if len(s) >= 4),
    )


def iter_problems(exc: ConfigError) -> Iterable[str]:
    return iter(exc.problems)
