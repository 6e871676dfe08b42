"""Parse mail into the very ``Message`` tree ``email.message_from_bytes`` (compat32) builds, faster.

The stdlib feed parser walks a message line by line in Python, with a stack of boundary
predicates tested on every line: a complaint with a 60 kB photo costs a thousand such steps
before any of it is used. Here the common shapes (a single part, or multiparts of single parts
with a proper header block, a start and a close boundary) are cut with ``str.find`` on the whole
text, and the tree is built with the same ``Message`` class, the same header (name, value) pairs,
payload strings, preambles, epilogues and defects the feed parser would leave.

Anything else (a ``From `` envelope line, a lone CR, a header line that is no header, a part
without its blank line, a missing or doubled boundary, ``message/*`` or ``multipart/digest``
parts, deep nesting, any exception) returns None from the fast path and the stdlib parser does
the whole message: the fast path only ever answers for input whose tree it knows to be the
same, which ``tests/email/test_email_normalizer.py`` checks against the stdlib on real, golden
and generated mail.
"""

from __future__ import annotations

import email
import email.errors
import email.message
import email.policy
import functools
import re
from typing import Any

_POLICY = email.policy.compat32
#: one header field with its continuation lines: an ftext name (RFC 5322 3.6.8), the colon, the
#: value. Stricter than the feed parser's own line test, which also takes an empty name and a
#: ``From `` line (each a special case there).
_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\n]*\n(?:[ \t][^\n]*\n)*)")
#: deeper trees go to the stdlib parser (nobody's complaint is nested this far)
_MAX_DEPTH = 8
#: dashes ``_find_separator`` hops over one by one before it leaves the rest to ``str.find``
_DASH_HOPS = 32


def parse_message(data: bytes) -> email.message.Message:
    """The compat32 ``Message`` tree of ``data``, as ``email.message_from_bytes`` makes it."""
    try:
        msg = _fast_parse(data)
    except Exception:  # an unforeseen shape: the stdlib parser decides, as it always did
        msg = None
    if msg is None:
        msg = email.message_from_bytes(data, policy=_POLICY)
    return msg


def _fast_parse(data: bytes) -> email.message.Message | None:
    """The tree, or None when the message is not of a shape this parser knows to get right."""
    text = data.decode("ascii", "surrogateescape")  # what BytesParser feeds the feed parser
    return _parse_part(text, 0, len(text), 0)


def _strip_eol(text: str) -> str:
    """``text`` without one line break at its very end (the feed parser's NLCRE_eol)."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\n", "\r")):
        return text[:-1]
    return text


def _lone_cr(text: str) -> bool:
    """A CR not followed by LF: the feed parser ends a line there, ``str.find`` cuts do not."""
    return "\r" in text and text.count("\r") != text.count("\r\n")


@functools.lru_cache(maxsize=256)
def _boundary_re(boundary: str) -> re.Pattern[str]:
    """The feed parser's own boundary-line pattern, compiled once per boundary."""
    return re.compile(
        "(?P<sep>"
        + re.escape("--" + boundary)
        + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    )


def _find_separator(text: str, separator: str, pos: int, end: int) -> int:
    """``text.find(separator, pos, end)`` for a separator starting with ``-``, faster on bodies.

    ``str.find`` of a single character is a ``memchr``; of a longer needle a Python-level-free
    but much slower skip search (about 30 µs over a 40 kB photo). Base64 holds no ``-`` at
    all, so hopping from dash to dash crosses it at once; a text dense with dashes falls back
    to the plain search after a few hops.
    """
    for _ in range(_DASH_HOPS):
        at = text.find("-", pos, end)
        if at < 0 or text.startswith(separator, at, end):
            return at
        pos = at + 1
    return text.find(separator, pos, end)


def _body_start(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the header block ends and the body begins, or None without a blank line."""
    if text.startswith("\n", start, end):
        return start, start + 1
    if text.startswith("\r\n", start, end):
        return start, start + 2
    # Search the likelier separator first (by the first line's ending), the other only before it.
    first_nl = text.find("\n", start, end)
    if first_nl < 0:
        return None
    crlf = first_nl > start and text[first_nl - 1] == "\r"
    primary, other = ("\n\r\n", "\n\n") if crlf else ("\n\n", "\n\r\n")
    found = text.find(primary, start, end)
    alt = text.find(other, start, found if found >= 0 else end)
    if alt >= 0:
        found, primary = alt, other
    if found < 0:
        return None
    return found + 1, found + len(primary)


def _parse_part(text: str, start: int, end: int, depth: int) -> email.message.Message | None:
    """One message or body part from ``text[start:end]``; ``end`` is at a line start or EOF."""
    if depth > _MAX_DEPTH:
        return None
    found = _body_start(text, start, end)
    if found is None:
        return None
    header_end, body = found
    msg = email.message.Message(policy=_POLICY)
    if header_end > start:
        if _lone_cr(text[start:header_end]):
            return None
        pos = start
        while pos < header_end:
            # A leading continuation line or a line that is no field does not match: the feed
            # parser notes a defect or starts the body there, so the stdlib does this message.
            field = _FIELD.match(text, pos, header_end)
            if field is None:
                return None
            # compat32's header_source_parse: the name up to the first colon, the value without
            # the blanks after the colon and without the final line break; folding is kept.
            msg.set_raw(field[1], field[2].rstrip("\r\n"))
            pos = field.end()
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        payload = text[body:end]
        # In a multipart, the line break before a boundary belongs to the boundary (RFC 2046).
        msg.set_payload(_strip_eol(payload) if depth else payload)
        return msg
    if msg.get_content_type() == "multipart/digest":
        return None  # its parts default to message/rfc822
    boundary = msg.get_boundary()
    if not boundary or "\n" in boundary or "\r" in boundary:
        return None
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in ("7bit", "8bit", "binary"):
        _POLICY.handle_defect(msg, email.errors.InvalidMultipartContentTransferEncodingDefect())
    return _split_multipart(msg, boundary, text, body, end, depth)


def _split_multipart(
    msg: email.message.Message, boundary: str, text: str, start: int, end: int, depth: int
) -> email.message.Message | None:
    """Attach the parts between a start and the first close boundary, as the feed parser does."""
    pattern = _boundary_re(boundary)
    separator = "--" + boundary
    lines: list[tuple[int, int]] = []  # (start, end) of each boundary line before the close
    close_start = closed_at = -1
    pos = start
    while True:
        at = _find_separator(text, separator, pos, end)
        if at < 0:
            break
        if at != start and text[at - 1] != "\n":
            if text[at - 1] == "\r":
                return None  # a lone CR before it: a line start for the feed parser
            pos = at + 1
            continue
        newline = text.find("\n", at, end)
        line_end = end if newline < 0 else newline + 1
        cr = text.find("\r", at, line_end)
        if cr >= 0 and cr != newline - 1:
            return None  # a lone CR in a boundary-like line: the feed parser ends the line there
        match = pattern.match(text, at, line_end)
        pos = line_end
        if match is None:
            continue
        if match.group("end"):
            close_start, closed_at = at, line_end
            break
        if lines and lines[-1][1] == at:
            return None  # back-to-back boundaries: the feed parser swallows them, and more
        lines.append((at, line_end))
    if closed_at < 0 or not lines:
        return None  # no start boundary, or no close: defects, left to the stdlib parser
    if lines[0][0] > start:
        preamble = text[start : lines[0][0]]
        msg.preamble = preamble[:-2] if preamble.endswith("\r\n") else preamble[:-1]
    if lines[-1][1] == close_start:
        return None
    ends = [at for at, _ in lines[1:]] + [close_start]
    for (_, part_start), part_end in zip(lines, ends, strict=True):
        part = _parse_part(text, part_start, part_end, depth + 1)
        if part is None:
            return None
        msg.attach(part)
    epilogue = text[closed_at:end]
    if depth:
        # The line break before the next outer boundary belongs to that boundary (RFC 2046).
        msg.epilogue = _strip_eol(epilogue) if epilogue else None
    else:
        msg.epilogue = epilogue
    return msg


# --------------------------------------------------------------------------- parameter look-ups
# ``get_content_charset`` and ``get_filename`` re-parse the header's parameters in Python on each
# call (about 8 µs each), and most parts carry one of a handful of Content-Type texts. The answer
# depends on nothing but the header texts, so it is computed once per text, by the same stdlib
# method on a probe message holding just that header. Header objects (8-bit values) and long
# texts are not cached.

_CACHEABLE = 200  # characters: longer texts are rare and would only fill the cache


def content_charset(part: email.message.Message) -> str | None:
    """``part.get_content_charset()``, memoised by the Content-Type text."""
    value = part.get("content-type")
    if value is not None and _cacheable(value):
        return _charset_of(value)
    return part.get_content_charset()


def filename(part: email.message.Message) -> str | None:
    """``part.get_filename()``, memoised by the Content-Disposition and Content-Type texts."""
    disposition = part.get("content-disposition")
    content_type = part.get("content-type")
    if _cacheable(disposition) and _cacheable(content_type):
        return _filename_of(disposition, content_type)
    return part.get_filename()


def _cacheable(value: Any) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= _CACHEABLE)


def _probe(disposition: str | None, content_type: str | None) -> email.message.Message:
    probe = email.message.Message(policy=_POLICY)
    if disposition is not None:
        probe.set_raw("Content-Disposition", disposition)
    if content_type is not None:
        probe.set_raw("Content-Type", content_type)
    return probe


@functools.lru_cache(maxsize=512)
def _charset_of(content_type: str) -> str | None:
    return _probe(None, content_type).get_content_charset()


@functools.lru_cache(maxsize=512)
def _filename_of(disposition: str | None, content_type: str | None) -> str | None:
    name: str | None = _probe(disposition, content_type).get_filename()
    return name
