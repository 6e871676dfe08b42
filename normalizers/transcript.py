"""Call-center transcripts to reports: one file per call, the caller's account as ``text``.

Call-center systems and the speech-to-text services behind them write transcripts in a handful
of formats. The format is detected from the content first (a file renamed ``.txt`` is still
WebVTT if it says ``WEBVTT``), the extension only breaks ties. Each format is parsed into
*turns* (who spoke, what, when); turns are then sorted into the agent's and the caller's:

* by label ("Petugas:", "Penelepon:", ``<v Petugas>``), configurable with ``agent_labels`` and
  ``caller_labels``;
* by channel (Amazon Transcribe channel identification: ``ch_0`` agent, ``ch_1`` caller, set by
  ``agent_channel``/``caller_channel``);
* by what is said, when speakers are only names or ``spk_0``: the agent greets with the office's
  name and offers help, the caller says "nama saya …" and "saya mau melapor …".

A speaker with no evidence either way is counted as the caller: a complaint with a greeting left
in is better than a complaint lost. ``text`` is the caller's turns only. The caller's name,
address, phone and NIK are taken from what they say (numbers spoken as words included, see
``normalizers.spoken_numbers``); call metadata (sidecar JSON, call log row, header block) wins
over speech, since a telephone switch does not mishear.

Pure: no I/O.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import PurePosixPath
from typing import Any, Literal

import phonenumbers

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report
from normalizers.extract.nik import find_niks, mask_niks
from normalizers.extract.phone import first_phone, normalize_phone
from normalizers.record import mask_nik
from normalizers.spoken_numbers import replace_spoken_numbers

Role = Literal["agent", "caller"]
Format = Literal["aws", "vtt", "srt", "csv", "text"]


class TranscriptError(ValueError):
    """The file cannot be read as the transcript format it claims or looks like."""


@dataclass(frozen=True)
class Turn:
    """One stretch of speech by one speaker."""

    text: str
    speaker: str | None = None
    channel: str | None = None
    start: float | None = None
    confidences: tuple[float, ...] = ()
    #: the line as written, when ``speaker`` was read from a "Label:" prefix of the text
    unsplit: str | None = None


@dataclass(frozen=True)
class Transcript:
    format: Format
    turns: list[Turn]
    #: facts from a plain-text header block, by canonical key (date, time, ani, call_id, …)
    header: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# decoding and format detection

_VTT_TIMING = re.compile(
    r"^\s*(?:\d+:)?\d{2}:\d{2}\.\d{3}\s+-->\s+(?:\d+:)?\d{2}:\d{2}\.\d{3}", re.M
)
_SRT_TIMING = re.compile(r"^\s*\d+:\d{2}:\d{2},\d{1,3}\s+-->\s+\d+:\d{2}:\d{2},\d{1,3}", re.M)
_SBV_TIMING = re.compile(r"^\s*\d+:\d{2}:\d{2}\.\d{3},\d+:\d{2}:\d{2}\.\d{3}\s*$", re.M)


def decode(payload: bytes) -> str:
    """Text of a transcript file: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = payload.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_format(text: str, filename: str | None) -> Format:
    """The transcript format of ``text``: content first, the file extension as a tie-breaker."""
    suffix = PurePosixPath(filename).suffix.lower() if filename else ""
    head = text.lstrip()
    if not head:
        raise TranscriptError("the file is empty: the call-center system wrote no transcript")
    if head.startswith("{"):
        return "aws"
    if head.startswith("WEBVTT"):
        return "vtt"
    if _SRT_TIMING.search(text):
        return "srt"
    if _VTT_TIMING.search(text):
        return "vtt"
    if suffix in (".vtt", ".srt", ".json"):
        kind = {".vtt": "WebVTT", ".srt": "SRT", ".json": "Amazon Transcribe JSON"}[suffix]
        raise TranscriptError(
            f"file is named {suffix} but its content is not {kind} (no header or cue timings); "
            "export the transcript again or rename it .txt if it is plain text"
        )
    if suffix == ".csv" or _looks_like_turn_csv(text):
        return "csv"
    return "text"


# --------------------------------------------------------------------------------------------
# speaker labels

_AGENT_LABELS = (
    "petugas", "agent", "agen", "operator", "cs", "customer service", "call center",
    "callcenter", "admin", "staf", "staff", "officer", "representative", "rep",
)  # fmt: skip
_CALLER_LABELS = (
    "penelepon", "penelpon", "pelapor", "caller", "warga", "pelanggan", "customer",
    "masyarakat", "pengadu", "penanya", "publik", "pengguna", "client", "klien",
)  # fmt: skip

# "Petugas: …", "[Penelepon] …", "- Agent: …" at the start of a line; the label is at most a
# few words so a sentence with a colon in it is not taken for a speaker.
_LABEL_LINE = re.compile(
    r"^\s*(?:-\s*)?(?:\[(?P<b>[^\]\n]{1,40})\]:?|(?P<c>[^\W\d][\w .'()/-]{0,38}?)\s*:)"
    r"(?!\d|//)\s*(?P<t>.*)$"
)
_TIMESTAMP_PREFIX = re.compile(r"^\s*[\[(]?(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)[\])]?\s*")


def _label_words(label: str) -> str:
    return " ".join(re.findall(r"[a-z0-9_]+", label.lower()))


def _has_word(haystack: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"(?<![a-z0-9_]){re.escape(w)}(?![a-z0-9_])", haystack) for w in words)


def role_of_label(label: str | None, settings: Mapping[str, Any]) -> Role | None:
    """The role a speaker label or channel names, if it names one."""
    if not label:
        return None
    words = _label_words(label)
    agent_channel = str(settings.get("agent_channel") or "ch_0")
    caller_channel = str(settings.get("caller_channel") or "ch_1")
    if words == agent_channel.lower():
        return "agent"
    if words == caller_channel.lower():
        return "caller"
    extra_agent = [_label_words(x) for x in settings.get("agent_labels") or ()]
    extra_caller = [_label_words(x) for x in settings.get("caller_labels") or ()]
    if _has_word(words, extra_agent) or _has_word(words, _AGENT_LABELS):
        return "agent"
    if _has_word(words, extra_caller) or _has_word(words, _CALLER_LABELS):
        return "caller"
    return None


def _is_known_label(label: str, settings: Mapping[str, Any]) -> bool:
    return role_of_label(label, settings) is not None


def split_label(line: str) -> tuple[str | None, str]:
    """("Petugas", "selamat pagi") from "Petugas: selamat pagi"; (None, line) without a label."""
    m = _LABEL_LINE.match(line)
    if not m:
        return None, line
    label = (m.group("b") or m.group("c") or "").strip()
    if not label or len(label.split()) > 4:
        return None, line
    return label, m.group("t").strip()


# --------------------------------------------------------------------------------------------
# parsers

_TAG = re.compile(r"<[^>]*>")
_SSA_TAG = re.compile(r"\{\\[^}]*\}")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)?\s+([^>]+)>")


def _clean_cue(text: str) -> str:
    text = _SSA_TAG.sub("", _TAG.sub("", text))
    return " ".join(html.unescape(text).split())


def _labelled_lines(lines: Iterable[str], start: float | None) -> list[Turn]:
    """Turns from cue lines that may carry "Label:" prefixes."""
    turns: list[Turn] = []
    speaker: str | None = None
    for line in lines:
        cleaned = _clean_cue(line)
        if not cleaned:
            continue
        label, rest = split_label(cleaned)
        unsplit = None
        if label is not None:
            speaker, unsplit = label, cleaned
            cleaned = rest
        if cleaned:
            turns.append(Turn(cleaned, speaker, start=start, unsplit=unsplit))
    return turns


def speaker_labels(labels: Iterable[str | None], settings: Mapping[str, Any]) -> set[str]:
    """Which "Label:" prefixes name speakers: "Catatan: …" written once is just text.

    A label is a speaker if it names a role or recurs; once some labels are speakers (a
    dialogue), a capitalised label of up to three words said once is a speaker too.
    """
    counts: dict[str, int] = {}
    for label in labels:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    speakers = {lb for lb, n in counts.items() if n >= 2 or _is_known_label(lb, settings)}
    if speakers:
        speakers |= {lb for lb in counts if lb[:1].isupper() and len(lb.split()) <= 3}
    return speakers


def _keep_speaker_labels(turns: list[Turn], settings: Mapping[str, Any]) -> list[Turn]:
    """Undo the "Label:" split of cue lines whose label is not a speaker."""
    speakers = speaker_labels((t.speaker for t in turns if t.unsplit is not None), settings)
    out: list[Turn] = []
    for turn in turns:
        if turn.speaker is not None and turn.unsplit is not None and turn.speaker not in speakers:
            out.append(Turn(turn.unsplit, None, turn.channel, turn.start, turn.confidences))
        else:
            out.append(turn)
    return out


def parse_vtt(text: str) -> list[Turn]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    if not text.lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text  # cue timings without the header: lenient, as players are
    try:
        vtt = webvtt.from_string(text)
        captions = list(vtt.captions)
    except (MalformedCaptionError, MalformedFileError, ValueError, IndexError) as exc:
        raise TranscriptError(f"not a valid WebVTT file: {exc}") from exc
    turns: list[Turn] = []
    for cap in captions:
        start = float(cap.start_in_seconds)
        voice: str | None = None
        plain: list[str] = []
        for line in cap.raw_text.split("\n"):
            spans = list(_VOICE.finditer(line))
            if not spans:
                if voice is None:
                    plain.append(line)
                else:
                    cleaned = _clean_cue(line)
                    if cleaned:
                        turns.append(Turn(cleaned, voice, start=start))
                continue
            before = line[: spans[0].start()]
            if _clean_cue(before):
                turns.append(Turn(_clean_cue(before), voice, start=start))
            for i, span in enumerate(spans):
                voice = span.group(1).strip()
                end = spans[i + 1].start() if i + 1 < len(spans) else len(line)
                cleaned = _clean_cue(line[span.end() : end])
                if cleaned:
                    turns.append(Turn(cleaned, voice, start=start))
        if plain:
            turns.extend(_labelled_lines(plain, start))
    return turns


def parse_srt(text: str) -> list[Turn]:
    import srt

    try:
        subs = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise TranscriptError(f"not a valid SRT file: {exc}") from exc
    turns: list[Turn] = []
    for sub in subs:
        turns.extend(_labelled_lines(sub.content.split("\n"), sub.start.total_seconds()))
    return turns


def _f(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list, skipping anything else (a hand-edited file may hold junk)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _item_text_conf(item: Mapping[str, Any]) -> tuple[str, float | None]:
    alts = _dicts(item.get("alternatives"))
    alt = alts[0] if alts else {}
    content = alt.get("content")
    return (content if isinstance(content, str) else ""), _f(alt.get("confidence"))


@dataclass
class _Word:
    start: float
    who: str | None
    text: str
    conf: float | None
    channel: str | None = None


def _words_from_items(items: Any, who_of: Mapping[str, str], channel: str | None) -> list[_Word]:
    words: list[_Word] = []
    for item in _dicts(items):
        content, conf = _item_text_conf(item)
        if item.get("type") == "punctuation":
            if words:
                words[-1].text += content
            continue
        start_raw = item.get("start_time")
        start = _f(start_raw) or 0.0
        label = item.get("speaker_label")
        who = (str(label) if label else None) or who_of.get(str(start_raw)) or channel
        words.append(_Word(start, who, content, conf, channel))
    return words


def _group_words(words: Sequence[_Word], channels: bool) -> list[Turn]:
    turns: list[Turn] = []
    current: list[_Word] = []
    for word in [*words, None]:
        if word is None or (current and word.who != current[0].who):
            if current:
                who = current[0].who
                turns.append(
                    Turn(
                        " ".join(w.text for w in current if w.text),
                        speaker=None if channels else who,
                        channel=who if channels else None,
                        start=current[0].start,
                        confidences=tuple(w.conf for w in current if w.conf is not None),
                    )
                )
            current = []
        if word is not None:
            current.append(word)
    return turns


def parse_aws(text: str) -> list[Turn]:
    """Amazon Transcribe output: speaker labels, channel identification, or one speaker."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"not valid JSON: {exc}") from exc
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict) or not (
        "items" in results or "transcripts" in results or "audio_segments" in results
    ):
        raise TranscriptError(
            "JSON but not an Amazon Transcribe result (no results.items / results.transcripts); "
            "only Amazon Transcribe JSON is read as a transcript"
        )
    items = _dicts(results.get("items"))
    channel_labels = results.get("channel_labels")
    if isinstance(channel_labels, dict) and _dicts(channel_labels.get("channels")):
        words: list[_Word] = []
        for ch in _dicts(channel_labels["channels"]):
            label = str(ch.get("channel_label"))
            words.extend(_words_from_items(ch.get("items") or [], {}, label))
        words.sort(key=lambda w: w.start)  # stable: a channel's own order is kept on ties
        return _group_words(words, channels=True)
    speaker_labels = results.get("speaker_labels")
    if isinstance(speaker_labels, dict) and _dicts(speaker_labels.get("segments")):
        who_of: dict[str, str] = {}
        for seg in _dicts(speaker_labels["segments"]):
            for it in _dicts(seg.get("items")):
                who_of[str(it.get("start_time"))] = str(it.get("speaker_label"))
        return _group_words(_words_from_items(items, who_of, None), channels=False)
    segments = _dicts(results.get("audio_segments"))
    if segments and any(s.get("speaker_label") or s.get("channel_label") for s in segments):
        return [
            Turn(
                seg["transcript"].strip(),
                speaker=str(seg["speaker_label"]) if seg.get("speaker_label") else None,
                channel=str(seg["channel_label"]) if seg.get("channel_label") else None,
                start=_f(seg.get("start_time")),
            )
            for seg in segments
            if isinstance(seg.get("transcript"), str) and seg["transcript"].strip()
        ]
    if any(i.get("speaker_label") for i in items):
        return _group_words(_words_from_items(items, {}, None), channels=False)
    if items:
        words = _words_from_items(items, {}, None)
        return _group_words(words, channels=False)
    return [
        Turn(t["transcript"].strip())
        for t in _dicts(results.get("transcripts"))
        if isinstance(t.get("transcript"), str) and t["transcript"].strip()
    ]


_CSV_SPEAKER = ("speaker", "pembicara", "role", "peran", "channel", "kanal", "pihak", "participant",
                "speaker_label", "penutur")  # fmt: skip
_CSV_TEXT = ("text", "teks", "ucapan", "transcript", "utterance", "kalimat", "content", "isi")
_CSV_START = ("start", "start_time", "mulai", "waktu", "time", "offset", "begin")


def _csv_columns(header: Sequence[str]) -> tuple[int, int, int | None] | None:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]

    def find(options: Sequence[str]) -> int | None:
        for i, n in enumerate(names):
            if n in options:
                return i
        return None

    speaker, text, start = find(_CSV_SPEAKER), find(_CSV_TEXT), find(_CSV_START)
    if speaker is None or text is None:
        return None
    return speaker, text, start


def _sniff(text: str) -> csv.Dialect | type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _looks_like_turn_csv(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    if not any(d in first for d in ",;\t|"):
        return False
    row = next(csv.reader([first], _sniff(first)), [])
    return _csv_columns(row) is not None


def _seconds(value: str) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    if ":" in value:
        total = 0.0
        for part in value.split(":"):
            part_value = _f(part)
            if part_value is None:
                return None
            total = total * 60 + part_value
        return total
    return _f(value)


def parse_csv_turns(text: str) -> list[Turn]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), _sniff(text)))
    if not rows:
        raise TranscriptError("empty CSV")
    cols = _csv_columns(rows[0])
    if cols is None:
        raise TranscriptError(
            "CSV of turns needs a header with a speaker column (speaker/pembicara/role/channel) "
            "and a text column (text/teks/ucapan/transcript)"
        )
    s_col, t_col, start_col = cols
    turns: list[Turn] = []
    for row in rows[1:]:
        if len(row) <= max(s_col, t_col):
            continue
        said = " ".join(row[t_col].split())
        if not said:
            continue
        start = _seconds(row[start_col]) if start_col is not None and start_col < len(row) else None
        turns.append(Turn(said, row[s_col].strip() or None, start=start))
    return turns


_HEADER_KEYS: dict[str, str] = {
    "tanggal": "date", "tgl": "date", "date": "date", "hari tanggal": "date",
    "jam": "time", "waktu": "time", "pukul": "time", "time": "time", "jam mulai": "time",
    "waktu mulai": "time", "mulai": "time", "start": "time",
    "no penelepon": "ani", "nomor penelepon": "ani", "no telepon": "ani", "nomor telepon": "ani",
    "no hp": "ani", "no telp": "ani", "ani": "ani", "caller id": "ani", "caller number": "ani",
    "no pelapor": "ani", "nomor pelapor": "ani",
    "id panggilan": "call_id", "call id": "call_id", "no tiket": "call_id", "id": "call_id",
    "nomor tiket": "call_id", "id telepon": "call_id",
    "nama penelepon": "caller_name", "nama pelapor": "caller_name", "caller name": "caller_name",
    "nama petugas": "agent", "agent name": "agent", "durasi": "duration", "duration": "duration",
}  # fmt: skip


def _header_key(label: str) -> str | None:
    return _HEADER_KEYS.get(" ".join(re.findall(r"[a-z0-9]+", label.lower())))


def parse_plain(text: str, settings: Mapping[str, Any]) -> tuple[list[Turn], dict[str, str]]:
    """Speaker-labelled turns, after an optional header block of "Key: value" lines."""
    lines = text.split("\n")
    header: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        m = re.match(r"^([^:]{1,40}):\s*(.*)$", line)
        key = _header_key(m.group(1)) if m else None
        if m is None or key is None:
            break
        header[key] = m.group(2).strip()
        i += 1
    body = [
        ln for ln in lines[i:] if not _SBV_TIMING.match(ln) and not re.match(r"^\s*-{3,}\s*$", ln)
    ]
    parsed: list[tuple[str | None, str, float | None]] = []
    for line in body:
        start: float | None = None
        m_ts = _TIMESTAMP_PREFIX.match(line)
        if m_ts and split_label(line[m_ts.end() :])[0] is not None:
            start = _seconds(m_ts.group("ts"))
            line = line[m_ts.end() :]
        label, rest = split_label(line)
        parsed.append((label, rest if label is not None else line.strip(), start))
    speakers = speaker_labels((label for label, _, _ in parsed), settings)
    turns: list[Turn] = []
    speaker: str | None = None
    buf: list[str] = []
    buf_start: float | None = None

    def flush() -> None:
        said = " ".join(" ".join(buf).split())
        if said:
            turns.append(Turn(said, speaker, start=buf_start))

    for label, rest, start in parsed:
        if label is not None and label in speakers:
            flush()
            speaker, buf, buf_start = label, [rest], start
        elif label is not None:
            buf.append(f"{label}: {rest}")
        elif not rest.strip():
            if speaker is None:  # unlabelled paragraphs stay apart (agent script filtering)
                flush()
                buf = []
        else:
            buf.append(rest)
    flush()
    return turns, header


def parse(text: str, filename: str | None, settings: Mapping[str, Any]) -> Transcript:
    fmt = detect_format(text, filename)
    if fmt == "aws":
        return Transcript(fmt, parse_aws(text))
    if fmt == "vtt":
        return Transcript(fmt, _keep_speaker_labels(parse_vtt(text), settings))
    if fmt == "srt":
        return Transcript(fmt, _keep_speaker_labels(parse_srt(text), settings))
    if fmt == "csv":
        return Transcript(fmt, parse_csv_turns(text))
    turns, header = parse_plain(text, settings)
    return Transcript(fmt, turns, header)


# --------------------------------------------------------------------------------------------
# who is the agent

_AGENT_SAYS = [
    re.compile(p, re.I)
    for p in (
        r"ada yang bisa (?:saya |kami )?(?:bantu|dibantu)",
        r"\bbisa (?:saya|kami) bantu\b",
        r"terima ?kasih (?:telah|sudah) menghubungi",
        r"dengan (?:bapak|ibu|pak|bu|mas|mbak) siapa",
        r"boleh (?:saya )?(?:tahu|minta|sebutkan|disebutkan) (?:nama|alamat|nomor|nik)",
        r"(?:laporan|aduan|pengaduan) (?:bapak|ibu) (?:akan|sudah|kami|segera)",
        r"kami (?:catat|teruskan|tindak ?lanjuti|sampaikan)",
        r"nomor (?:tiket|registrasi|laporan) (?:bapak|ibu|anda)",
        r"\b(?:how (?:can|may) i help|can i help you|thank you for calling)\b",
    )
]
_CALLER_SAYS = [
    re.compile(p, re.I)
    for p in (
        r"\bnama saya\b",
        r"\bsaya (?:mau|ingin|akan|hendak) (?:lapor|melapor|mengadu|menyampaikan|komplain|"
        r"mengeluh|mengeluhkan|melaporkan|mengadukan|bertanya)",
        r"\balamat saya\b",
        r"\bsaya tinggal di\b",
        r"\b(?:mau|ingin) (?:melaporkan|mengadukan|lapor)\b",
    )
]


def _greets_as_office(text: str, office_name: str) -> bool:
    office = re.escape(office_name.lower())
    low = text.lower()
    return bool(
        re.search(r"selamat (?:pagi|siang|sore|malam)", low)
        and re.search(rf"(?:{office}|diskominfo|kominfo|call ?cent|layanan|pengaduan|lapor)", low)
    )


def _agent_score(texts: Sequence[str], office_name: str) -> int:
    score = 0
    for i, t in enumerate(texts):
        score += sum(1 for p in _AGENT_SAYS if p.search(t))
        if i < 2 and _greets_as_office(t, office_name):
            score += 2
        score -= sum(1 for p in _CALLER_SAYS if p.search(t))
    return score


def assign_roles(
    turns: Sequence[Turn], settings: Mapping[str, Any], office_name: str
) -> list[Role]:
    """The role of each turn: by label or channel, else by what each speaker says."""
    keys = [t.speaker or t.channel for t in turns]
    known: dict[str, Role] = {}
    for key in keys:
        if key is not None and key not in known:
            role = role_of_label(key, settings)
            if role is not None:
                known[key] = role
    unknown = sorted({k for k in keys if k is not None and k not in known})
    if unknown:
        scores = {
            k: _agent_score(
                [t.text for t, kk in zip(turns, keys, strict=True) if kk == k], office_name
            )
            for k in unknown
        }
        agents = {k for k, s in scores.items() if s > 0}
        if "agent" in known.values():
            agents = set()  # the agent is labelled: the other voices are callers
        if agents and agents == set(keys) - {None} and "caller" not in known.values():
            # everyone sounds like the agent: only the most agent-like one is
            best = min(agents, key=lambda k: (-scores[k], keys.index(k)))  # first to speak
            agents = {best}
        for k in unknown:
            known[k] = "agent" if k in agents else "caller"
    roles: list[Role] = []
    for turn, key in zip(turns, keys, strict=True):
        if key is not None:
            roles.append(known[key])
        else:  # unlabelled speech: agent only if it is plainly the agent's script
            script = _greets_as_office(turn.text, office_name) or any(
                p.search(turn.text) for p in _AGENT_SAYS[:3]
            )
            roles.append(
                "agent"
                if script and not any(p.search(turn.text) for p in _CALLER_SAYS)
                else "caller"
            )
    return roles


# --------------------------------------------------------------------------------------------
# caller details from speech

_NAME_STOP = {
    "dari", "tinggal", "alamat", "mau", "ingin", "akan", "pak", "bu", "bapak", "ibu", "dan",
    "yang", "di", "dengan", "nomor", "saya", "mas", "mbak", "hendak", "ya", "nik", "umur",
    "warga", "selaku", "sebagai", "ini", "itu", "melapor", "lapor", "kak", "terima", "kasih",
    "belum", "tidak", "sudah", "juga", "sih", "kok", "lagi", "tadi", "mohon", "minta",
}  # fmt: skip
_NAME_AFTER = re.compile(r"\bnama (?:saya|lengkap saya)\s+(?:adalah\s+|ialah\s+|yaitu\s+)?", re.I)
_SAYA_NAME = re.compile(
    r"\b(?:[Ss]aya|[Ii]ni)(?:\s+dengan)?\s+(?:(?:[Bb]apak|[Ii]bu|[Pp]ak|[Bb]u|[Mm]as|[Mm]bak)\s+)?"
    r"(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+){0,3}),?\s+(?:dari|warga|tinggal)\b"
)
_ADDRESS = re.compile(
    r"\b(?:alamat (?:saya|rumah saya|lengkap saya)(?:\s+(?:di|adalah|ada di|yaitu))?|"
    r"saya tinggal di|saya beralamat di|rumah saya(?: ada)? di|saya berdomisili di)\s+"
    r"(?P<addr>[^.?!\n]+)",
    re.I,
)
_ADDRESS_CUT = re.compile(
    r",?\s+\b(?:pak|bu|mas|mbak|ya|nomor (?:saya|hp|telepon)|no hp|nik|mau|ingin|dan saya|"
    r"saya mau|saya ingin|terus|jadi|nah)\b.*$",
    re.I,
)
_PHONE_CUE = re.compile(
    r"\b(?:nomor|no\.?|nomer)\s*(?:saya|hp|handphone|telepon|telpon|ponsel|wa|whatsapp|kontak)?"
    r"(?:\s+(?:saya|yang bisa dihubungi))?(?:\s+(?:adalah|yaitu|di|ialah))?\s*:?\s*"
    r"(?P<num>\+?\d[\d\s.-]{6,}\d)",
    re.I,
)

_ASKS = {
    "nik": re.compile(r"\b(?:nik|nomor induk|ktp)\b", re.I),
    "phone": re.compile(
        r"\b(?:nomor|no\.?|nomer) (?:telepon|telpon|hp|handphone|ponsel|wa|whatsapp|kontak|"
        r"yang bisa dihubungi)|bisa dihubungi",
        re.I,
    ),
    "address": re.compile(r"\balamat\b|tinggal di ?mana|domisili", re.I),
    "name": re.compile(r"\bnama\b|dengan (?:bapak|ibu|pak|bu|mas|mbak) siapa|atas nama", re.I),
}


def to_e164(number: str, region: str = "ID") -> str | None:
    """An Indonesian (or, from call metadata, international) phone number in E.164, or None."""
    shared = normalize_phone(number)
    if shared is not None:
        return shared
    digits = re.sub(r"[^\d+]", "", number)
    if len(re.sub(r"\D", "", digits)) < 7:
        return None
    if digits.startswith("62") and not digits.startswith("+"):
        digits = "+" + digits
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _name_from(words_text: str) -> str | None:
    words: list[str] = []
    for raw_word in re.split(r"\s+", words_text.strip()):
        word = raw_word.strip()
        bare = word.strip(",.;:!?\"'")
        if not bare or bare.lower() in _NAME_STOP or not re.fullmatch(r"[^\W\d_][\w'’.-]*", bare):
            break
        words.append(bare)
        if word != bare or len(words) == 4:  # punctuation ends the name
            break
    if not words:
        return None
    name = " ".join(words)
    return name.title() if name.islower() else name


def _clean_address(value: str) -> str | None:
    value = _ADDRESS_CUT.sub("", value).strip(" ,;:-")
    words = value.split()
    if not words:
        return None
    return " ".join(words[:20])


def _answer_prefix_stripped(text: str) -> str:
    return re.sub(
        r"^(?:(?:iya|ya|baik|oh|oke|ok|eh|em|hmm|betul|iya pak|iya bu)[,.]?\s+)*"
        r"(?:(?:nama saya|saya|dengan|alamat saya|alamatnya|di|nomor saya|nomornya|nik saya)\s+)*",
        "",
        text.strip(),
        flags=re.I,
    )


@dataclass
class CallerDetails:
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    nik: str | None = None


def caller_details(turns: Sequence[Turn], roles: Sequence[Role]) -> CallerDetails:
    """Name, address, phone and NIK as the caller states them (first statement wins)."""
    found = CallerDetails()
    spoken = [replace_spoken_numbers(t.text, min_digits=6) for t in turns]
    # answers to the agent's questions ("Boleh tahu nama bapak?" -> "Budi Santoso, pak.")
    for i in range(len(turns) - 1):
        if roles[i] != "agent" or roles[i + 1] != "caller":
            continue
        asked = [k for k, p in _ASKS.items() if p.search(turns[i].text)]
        if len(asked) != 1:
            continue
        answer = spoken[i + 1]
        stripped = _answer_prefix_stripped(answer)
        if asked[0] == "name" and found.name is None and len(answer.split()) <= 8:
            found.name = _name_from(stripped)
        elif asked[0] == "address" and found.address is None:
            found.address = _clean_address(re.split(r"[.?!]", stripped)[0])
        elif asked[0] == "phone" and found.phone is None:
            m = re.search(r"\+?\d[\d\s.-]{6,}\d", answer)
            found.phone = normalize_phone(m.group(0)) if m else None
        elif asked[0] == "nik" and found.nik is None:
            niks = find_niks(re.sub(r"(?<=\d)[ .-](?=\d)", "", answer))
            found.nik = mask_nik(niks[0]) if niks else None
    caller_text = "\n".join(s for s, r in zip(spoken, roles, strict=True) if r == "caller")
    if found.name is None:
        m_name = _NAME_AFTER.search(caller_text)
        if m_name:
            found.name = _name_from(caller_text[m_name.end() :])
        else:
            m_saya = _SAYA_NAME.search(caller_text)
            if m_saya:
                found.name = m_saya.group("name")
    if found.address is None:
        m_addr = _ADDRESS.search(caller_text)
        if m_addr:
            found.address = _clean_address(m_addr.group("addr"))
    if found.phone is None:
        for m_phone in _PHONE_CUE.finditer(caller_text):
            found.phone = normalize_phone(m_phone.group("num"))
            if found.phone:
                break
    if found.phone is None:
        found.phone = first_phone(caller_text)
    if found.nik is None:
        niks = find_niks(caller_text)
        found.nik = mask_nik(niks[0]) if niks else None
    return found


# --------------------------------------------------------------------------------------------
# call metadata and start time

_MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2, "mar": 3,
    "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6, "juni": 6,
    "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "agt": 8, "ags": 8, "agustus": 8,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oktober": 10,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "des": 12, "desember": 12, "dec": 12,
    "december": 12,
}  # fmt: skip
_ZONES = {"wib": 7, "wita": 8, "wit": 9, "utc": 0, "gmt": 0}

_META_START = (
    "start", "start_time", "started_at", "call_start", "start_at", "begin", "waktu_mulai",
    "mulai", "timestamp", "datetime", "waktu", "call_started_at",
)  # fmt: skip
_META_ANI = ("ani", "caller", "caller_number", "caller_id", "from", "msisdn", "phone",
             "no_penelepon", "nomor_penelepon", "calling_number", "caller_phone")  # fmt: skip
_META_NAME = ("caller_name", "nama_penelepon", "nama_pelapor", "nama")
_META_CALL_ID = ("call_id", "callid", "id_panggilan", "contact_id", "id")


def _meta_get(meta: Mapping[str, Any], keys: Sequence[str]) -> Any:
    lowered = {
        str(k).strip().lower().replace(" ", "_").replace("-", "_"): v for k, v in meta.items()
    }
    for key in keys:
        value = lowered.get(key)
        if value not in (None, ""):
            return value
    return None


def _parse_date(value: str) -> tuple[int, int, int] | None:
    value = value.strip().lower()
    m = re.search(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = re.search(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value)
    if m:
        return int(m.group(3)), int(m.group(2)), int(m.group(1))
    m = re.search(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", value)
    if m and m.group(2) in _MONTHS:
        return int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1))
    return None


def _parse_time(value: str) -> tuple[int, int, int, tzinfo | None] | None:
    m = re.search(
        r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([A-Za-z]{3,4}|[+-]\d{2}:?\d{2})?", value
    )
    if not m:
        return None
    zone: tzinfo | None = None
    z = (m.group(4) or "").lower()
    if z in _ZONES:
        zone = timezone(timedelta(hours=_ZONES[z]))
    elif z[:1] in "+-" and z:
        sign = 1 if z[0] == "+" else -1
        digits = z[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), zone


def parse_when(value: Any, tz: tzinfo, time_value: str | None = None) -> datetime | None:
    """A call start from metadata: ISO 8601, epoch seconds, or an Indonesian date (+ time)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        stamp = float(value) / (1000 if value > 1e11 else 1)
        try:
            return datetime.fromtimestamp(stamp, UTC)
        except (ValueError, OverflowError, OSError):  # NaN, or beyond what a datetime holds
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace(" WIB", "+07:00"))
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        return parse_when(float(text), tz)
    date = _parse_date(text)
    if date is None:
        return None
    clock = _parse_time(time_value) if time_value else None
    if clock is None:
        rest = re.sub(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", " ", text)
        clock = _parse_time(rest)
    hour, minute, second, zone = clock if clock else (0, 0, 0, None)
    try:
        return datetime(*date, hour, minute, second, tzinfo=zone or tz)
    except ValueError:
        return None


def call_start(
    meta: Mapping[str, Any], header: Mapping[str, str], raw: RawMessage, ctx: NormalizeContext
) -> datetime:
    """Call start: metadata, else the header block, else the file's mtime (``received_at``)."""
    tz = ctx.office.tz
    from_meta = _meta_get(meta, _META_START)
    if from_meta is not None:
        when = parse_when(from_meta, tz, _meta_get(meta, ("jam", "time")))
        if when is not None:
            return when
    date = _meta_get(meta, ("tanggal", "date"))
    if date is not None:
        when = parse_when(date, tz, _meta_get(meta, ("jam", "time")))
        if when is not None:
            return when
    if "date" in header:
        when = parse_when(header["date"], tz, header.get("time"))
        if when is not None:
            return when
    if "time" in header and _parse_date(header["time"]):
        when = parse_when(header["time"], tz)
        if when is not None:
            return when
    if raw.received_at is not None and raw.received_at.tzinfo is not None:
        return raw.received_at
    return ctx.ingested_at


# --------------------------------------------------------------------------------------------
# the normalizer


def _mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if 0.0 <= v <= 1.0]
    return sum(vals) / len(vals) if vals else None


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One transcript file -> one report of the caller's complaint, or a Rejection saying why."""
    external_id = raw.external_id or raw.sha256
    if raw.transport_error:
        return [Rejection(f"transport error: {raw.transport_error}", external_id)]
    settings = ctx.settings
    try:
        transcript = parse(decode(raw.payload), raw.filename, settings)
    except (TranscriptError, csv.Error) as exc:
        return [
            Rejection(f"unreadable transcript {raw.filename or ''}: {exc}".strip(), external_id)
        ]
    turns = [t for t in transcript.turns if t.text.strip()]
    if not turns:
        return [
            Rejection(
                f"{transcript.format} transcript has no speech (no cues or turns with text)",
                external_id,
            )
        ]
    roles = assign_roles(turns, settings, ctx.office.name)
    caller = [t for t, r in zip(turns, roles, strict=True) if r == "caller"]
    if not caller:
        speakers = sorted({t.speaker or t.channel or "unlabelled" for t in turns})
        return [
            Rejection(
                "no caller speech left after removing the agent's turns (speakers: "
                f"{', '.join(speakers)}); set caller_labels/caller_channel if the caller's "
                "label was not recognised",
                external_id,
            )
        ]
    text = mask_niks(
        "\n".join(replace_spoken_numbers(t.text, min_digits=6, dictated_only=True) for t in caller)
    )
    details = caller_details(turns, roles)
    meta = raw.meta or {}
    ani = _meta_get(meta, _META_ANI) or transcript.header.get("ani")
    phone = (to_e164(str(ani)) if ani is not None else None) or details.phone
    name = _meta_get(meta, _META_NAME) or transcript.header.get("caller_name") or details.name
    confidence = _mean(c for t in caller for c in t.confidences)
    fields: dict[str, Any] = {
        "external_id": external_id,
        "received_at": call_start(meta, transcript.header, raw, ctx),
        "reporter": {
            "name": str(name) if name else None,
            "phone": phone,
            "address": details.address,
            "nik_masked": details.nik,
        },
        "text": text,
        "confidence": round(confidence, 4) if confidence is not None else 1.0,
    }
    return [build_report(fields, ctx)]
