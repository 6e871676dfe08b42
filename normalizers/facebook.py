"""Facebook page and Instagram account payloads → reports.

Input is one Graph API response as received (a feed page, a comments page, a conversations page
with inline messages, a messages page, an Instagram media/comments page, a single object, an
``?ids=`` map) or one signed webhook delivery (``{"object": "page"|"instagram", "entry": [...]}``).
Both paths name an item by its Graph object id, so a post, comment or message seen by the webhook
and again by polling gets the same ``external_id`` and therefore the same report id.

What the adapter tells us through ``RawMessage.meta`` (all optional, so an archived payload can be
re-normalized on its own):

* ``source``: ``feed``, ``comments``, ``messages``, ``conversations``, ``ig_comments``,
  ``ig_mentions`` or ``webhook``;
* ``page_id``: the page (or Instagram account) itself. Its own posts, replies and messages make
  no report: they are the office talking, not a citizen;
* ``post_id`` / ``media_id`` / ``conversation_id``: the parent of a comments or messages page;
* ``after``: ``{"time": RFC 3339, "ids": [...]}``, the newest item of this thread already
  handled. A Graph page is kept whole as the raw payload, so a page that straddles the checkpoint
  carries old items too; skipping them here is what makes "a new message in an old conversation
  is picked up exactly once" true at the record level;
* ``media``: ``{url: {"sha256", "size", "content_type", "filename"}}`` for the media the adapter
  downloaded into the attachment store. A media URL without such an entry is *not* listed as an
  attachment: the record has no honest sha256/size for bytes nobody fetched (the remote URL is
  still in the archived raw payload).
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report

#: attachment types whose picture is the citizen's own media, not a link preview
_LINK_TYPES = frozenset({"share", "native_templates", "link"})


@dataclass(frozen=True)
class MediaRef:
    """A media file an item carries: what the adapter downloads and the normalizer lists."""

    url: str
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Item:
    """One post, comment or message in a payload, with what its context says about it."""

    external_id: str
    text: str
    received_at: datetime | None
    author_id: str | None
    author_name: str | None
    handle: str | None
    in_reply_to: str | None
    media: tuple[MediaRef, ...]
    place: Mapping[str, Any] | None


# --- small readers -------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """Graph times: ``2021-07-04T19:50:58+0000``; webhooks: unix seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str) and value:
        for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        value = value.get("data")
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _filename(url: str) -> str:
    name = posixpath.basename(urlsplit(url).path)
    return name or "media"


def _guess_type(url: str) -> str | None:
    return mimetypes.guess_type(urlsplit(url).path)[0]


# --- media ---------------------------------------------------------------------------------------


def _story_media(attachment: Mapping[str, Any]) -> Iterator[MediaRef]:
    """Media of a post/comment attachment (``attachments.data[]`` or a comment's ``attachment``)."""
    kind = str(attachment.get("type") or attachment.get("media_type") or "")
    subs = _list(_dict(attachment.get("subattachments")))
    if subs:
        for sub in subs:
            yield from _story_media(_dict(sub))
        return
    if kind in _LINK_TYPES:
        return
    media = _dict(attachment.get("media"))
    source = _str(media.get("source"))
    if source and "video" in kind:
        yield MediaRef(source, _filename(source), _guess_type(source))
        return
    src = _str(_dict(media.get("image")).get("src"))
    if src:
        yield MediaRef(src, _filename(src), _guess_type(src))


def _post_media(item: Mapping[str, Any]) -> tuple[MediaRef, ...]:
    refs: list[MediaRef] = []
    if "attachments" in item:
        for att in _list(_dict(item.get("attachments"))):
            refs.extend(_story_media(_dict(att)))
    elif "attachment" in item:
        refs.extend(_story_media(_dict(item.get("attachment"))))
    else:
        pic = _str(item.get("full_picture"))
        if pic:
            refs.append(MediaRef(pic, _filename(pic), _guess_type(pic)))
    return _unique(refs)


def _message_media(item: Mapping[str, Any]) -> tuple[MediaRef, ...]:
    refs: list[MediaRef] = []
    for att in _list(_dict(item.get("attachments"))):
        att = _dict(att)
        url = (
            _str(_dict(att.get("image_data")).get("url"))
            or _str(_dict(att.get("video_data")).get("url"))
            or _str(att.get("file_url"))
        )
        if url:
            refs.append(
                MediaRef(url, _str(att.get("name")) or _filename(url), _str(att.get("mime_type")))
            )
    return _unique(refs)


def _unique(refs: list[MediaRef]) -> tuple[MediaRef, ...]:
    seen: set[str] = set()
    out: list[MediaRef] = []
    for ref in refs:
        if ref.url not in seen:
            seen.add(ref.url)
            out.append(ref)
    return tuple(out)


# --- items from Graph responses ------------------------------------------------------------------


def _ids_from_permalink(permalink: str) -> tuple[str | None, str | None, str | None]:
    """(comment id, parent id, post id) from a comment's permalink, for payloads without ``id``.

    ``…/{page}/posts/{post}/?comment_id=C&reply_comment_id=R`` names reply ``{post}_{R}`` whose
    parent is ``{post}_{C}`` on post ``{page}_{post}``.
    """
    parts = urlsplit(permalink)
    query = parse_qs(parts.query)
    segments = [s for s in parts.path.split("/") if s]
    post_num = page = None
    if "posts" in segments:
        i = segments.index("posts")
        page = segments[i - 1] if i > 0 else None
        post_num = segments[i + 1] if i + 1 < len(segments) else None
    post_id = f"{page}_{post_num}" if page and post_num else None
    comment = query.get("comment_id", [None])[0]
    reply = query.get("reply_comment_id", [None])[0]
    if not post_num or not comment:
        return None, None, post_id
    if reply:
        return f"{post_num}_{reply}", f"{post_num}_{comment}", post_id
    return f"{post_num}_{comment}", post_id, post_id


def _fb_item(obj: Mapping[str, Any], meta: Mapping[str, Any], source: str) -> Item | None:
    """A Graph post, comment or message (Messenger)."""
    ext = _str(obj.get("id"))
    parent = _str(_dict(obj.get("parent")).get("id"))
    is_message = (ext or "").startswith("m_") or source == "messages"
    is_comment = not is_message and (
        source == "comments"
        or "parent" in obj
        or "comment_count" in obj
        or "attachment" in obj
        or "comment_id=" in str(obj.get("permalink_url", ""))
    )
    in_reply_to: str | None = None
    if is_comment:
        permalink = _str(obj.get("permalink_url"))
        derived_id, derived_parent, derived_post = (
            _ids_from_permalink(permalink) if permalink else (None, None, None)
        )
        ext = ext or derived_id
        post = _str(meta.get("post_id")) or derived_post
        in_reply_to = parent or (
            derived_parent if derived_parent and derived_parent != derived_post else post
        )
    if not ext:
        return None
    author = _dict(obj.get("from"))
    text = _str(obj.get("message")) or ""
    media = _message_media(obj) if is_message else _post_media(obj)
    return Item(
        external_id=ext,
        text=text,
        received_at=parse_time(obj.get("created_time")),
        author_id=_str(author.get("id")),
        author_name=_str(author.get("name")),
        handle=_str(author.get("id")),
        in_reply_to=in_reply_to,
        media=media,
        place=_dict(obj.get("place")) or None,
    )


def _ig_item(obj: Mapping[str, Any], parent: str | None) -> Item | None:
    """An Instagram comment (``text``) or media (``caption``, e.g. one tagging the account)."""
    ext = _str(obj.get("id"))
    if not ext:
        return None
    author = _dict(obj.get("from"))
    username = _str(obj.get("username")) or _str(author.get("username"))
    is_comment = "text" in obj
    media: tuple[MediaRef, ...] = ()
    if not is_comment:
        url = _str(obj.get("media_url"))
        if url and str(obj.get("media_type", "")).upper() != "VIDEO":
            media = (MediaRef(url, _filename(url), _guess_type(url)),)
        elif url:
            media = (MediaRef(url, _filename(url), _guess_type(url) or "video/mp4"),)
    reply_to = _str(obj.get("parent_id")) or (parent if is_comment else None)
    return Item(
        external_id=ext,
        text=_str(obj.get("text")) or _str(obj.get("caption")) or "",
        received_at=parse_time(obj.get("timestamp")),
        author_id=_str(author.get("id")),
        author_name=None,
        handle=f"@{username}" if username else None,
        in_reply_to=reply_to,
        media=media,
        place=None,
    )


def _ig_items(obj: Mapping[str, Any], parent: str | None) -> Iterator[Item]:
    item = _ig_item(obj, parent)
    if item is not None:
        yield item
    for reply in _list(_dict(obj.get("replies"))):
        reply = _dict(reply)
        yield from _ig_items(reply, _str(reply.get("parent_id")) or _str(obj.get("id")) or parent)


def _conversation_items(
    conv: Mapping[str, Any], meta: Mapping[str, Any], owner: str | None
) -> Iterator[Item]:
    messages = [_dict(m) for m in _list(_dict(conv.get("messages")))]
    yield from _thread(messages, meta, owner)


def _thread(
    messages: list[dict[str, Any]], meta: Mapping[str, Any], owner: str | None
) -> Iterator[Item]:
    """Messages newest first (as Graph lists them); each answers the citizen's previous one."""
    items = [i for i in (_fb_item(m, meta, "messages") for m in messages) if i is not None]
    for n, item in enumerate(items):
        previous = next(
            (o.external_id for o in items[n + 1 :] if o.author_id is None or o.author_id != owner),
            None,
        )
        yield Item(**{**item.__dict__, "in_reply_to": previous})


def _is_ig(meta: Mapping[str, Any], kind: str) -> bool:
    return kind == "instagram" or str(meta.get("source", "")).startswith("ig_")


def _graph_items(doc: Any, meta: Mapping[str, Any], kind: str, owner: str | None) -> Iterator[Item]:
    source = str(meta.get("source") or "")
    if not isinstance(doc, dict):
        return
    if "data" in doc and isinstance(doc["data"], list):
        objects = [_dict(o) for o in doc["data"]]
    elif "id" in doc:
        objects = [doc]
    else:  # an ``?ids=a,b`` response: {id: object}
        objects = [v for k, v in doc.items() if isinstance(v, dict) and v.get("id") == k]
    if source == "messages":
        yield from _thread(objects, meta, owner)
        return
    for obj in objects:
        if _is_ig(meta, kind):
            parent = _str(meta.get("media_id")) or _str(_dict(obj.get("media")).get("id"))
            yield from _ig_items(obj, parent)
        elif "messages" in obj or str(obj.get("id", "")).startswith("t_"):
            yield from _conversation_items(obj, meta, owner)
        else:
            item = _fb_item(obj, meta, source)
            if item is not None:
                yield item


# --- items from webhooks -------------------------------------------------------------------------


def _feed_change(value: Mapping[str, Any], entry_time: Any) -> Item | None:
    """A ``feed`` change: a post or a comment added (or edited) on the page."""
    item = str(value.get("item") or "")
    verb = str(value.get("verb") or "")
    if verb not in {"add", "edited", "edit"} or item in {"reaction", "like", "share_story"}:
        return None
    author = _dict(value.get("from"))
    if item == "comment":
        ext = _str(value.get("comment_id"))
        reply_to = _str(value.get("parent_id")) or _str(value.get("post_id"))
    else:
        ext = _str(value.get("post_id"))
        reply_to = None
    if not ext:
        return None
    urls = [u for u in [_str(value.get("photo")), _str(value.get("video"))] if u]
    urls += [u for u in (value.get("photos") or []) if isinstance(u, str)]
    return Item(
        external_id=ext,
        text=_str(value.get("message")) or "",
        received_at=parse_time(value.get("created_time")) or parse_time(entry_time),
        author_id=_str(author.get("id")),
        author_name=_str(author.get("name")),
        handle=_str(author.get("id")),
        in_reply_to=reply_to,
        media=_unique([MediaRef(u, _filename(u), _guess_type(u)) for u in urls]),
        place=None,
    )


def _messaging_event(event: Mapping[str, Any]) -> Item | None:
    message = _dict(event.get("message"))
    ext = _str(message.get("mid"))
    if not ext or message.get("is_echo"):
        return None
    refs = []
    for att in message.get("attachments") or []:
        att = _dict(att)
        url = _str(_dict(att.get("payload")).get("url"))
        if url:
            refs.append(MediaRef(url, _filename(url), _guess_type(url)))
    sender = _str(_dict(event.get("sender")).get("id"))
    return Item(
        external_id=ext,
        text=_str(message.get("text")) or "",
        received_at=parse_time(event.get("timestamp")),
        author_id=sender,
        author_name=None,
        handle=sender,
        in_reply_to=_str(_dict(message.get("reply_to")).get("mid")),
        media=_unique(refs),
        place=None,
    )


def _ig_change(value: Mapping[str, Any], entry_time: Any) -> Item | None:
    """Instagram ``comments`` change (``mentions`` carry ids only: polling picks those up)."""
    ext = _str(value.get("id"))
    text = _str(value.get("text"))
    if not ext or text is None:
        return None
    author = _dict(value.get("from"))
    username = _str(author.get("username"))
    return Item(
        external_id=ext,
        text=text,
        received_at=parse_time(value.get("timestamp")) or parse_time(entry_time),
        author_id=_str(author.get("id")),
        author_name=None,
        handle=f"@{username}" if username else None,
        in_reply_to=_str(value.get("parent_id")) or _str(_dict(value.get("media")).get("id")),
        media=(),
        place=None,
    )


def _webhook_items(doc: Mapping[str, Any]) -> Iterator[tuple[str | None, Item]]:
    """(owner id, item) for every report-worthy event of one delivery."""
    is_ig = doc.get("object") == "instagram"
    for entry in _list(doc.get("entry")):
        entry = _dict(entry)
        owner = _str(entry.get("id"))
        for change in entry.get("changes") or []:
            change = _dict(change)
            value = _dict(change.get("value"))
            field = change.get("field")
            found: Item | None = None
            if is_ig and field in {"comments", "live_comments"}:
                found = _ig_change(value, entry.get("time"))
            elif not is_ig and field == "feed":
                found = _feed_change(value, entry.get("time"))
            if found is not None:
                yield owner, found
        for event in entry.get("messaging") or []:
            found = _messaging_event(_dict(event))
            if found is not None:
                yield owner, found


# --- the normalizer ------------------------------------------------------------------------------


def _owner(meta: Mapping[str, Any], settings: Mapping[str, Any] | None) -> str | None:
    settings = settings or {}
    return (
        _str(meta.get("page_id"))
        or _str(settings.get("page_id"))
        or _str(settings.get("ig_user_id"))
    )


def _owner_username(meta: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    name = _str(meta.get("username")) or _str(settings.get("username"))
    return f"@{name.lstrip('@')}" if name else None


def _already_handled(item: Item, after: Mapping[str, Any]) -> bool:
    mark = parse_time(after.get("time"))
    if mark is None or item.received_at is None:
        return False
    if item.received_at < mark:
        return True
    ids = after.get("ids") or []
    return item.received_at == mark and item.external_id in ids


def items(raw: RawMessage, settings: Mapping[str, Any], kind: str) -> list[Item]:
    """The items of a payload that should become reports (not the page's own, not already handled).

    Shared with the adapter, which downloads exactly these items' media.
    """
    doc = json.loads(raw.payload)
    meta = raw.meta
    after = _dict(meta.get("after"))
    own_name = _owner_username(meta, settings)
    owner = _owner(meta, settings)
    found: list[tuple[str | None, Item]]
    if isinstance(doc, dict) and "entry" in doc and "object" in doc:
        found = list(_webhook_items(doc))
    else:
        found = [(None, i) for i in _graph_items(doc, meta, kind, owner)]
    out: list[Item] = []
    for entry_owner, item in found:
        me = owner or entry_owner
        if me is not None and item.author_id == me:
            continue
        if own_name is not None and item.handle == own_name:
            continue
        if after and _already_handled(item, after):
            continue
        out.append(item)
    return out


def media_wanted(raw: RawMessage, settings: Mapping[str, Any], kind: str) -> list[MediaRef]:
    """Media URLs of the report-worthy items of a payload (what the adapter should download)."""
    try:
        found = items(raw, settings, kind)
    except ValueError:
        return []
    return list(_unique([m for i in found for m in i.media]))


def _location(place: Mapping[str, Any] | None) -> dict[str, Any]:
    if not place:
        return {}
    where = _dict(place.get("location"))
    out: dict[str, Any] = {}
    parts = [_str(place.get("name")), _str(where.get("street")), _str(where.get("city"))]
    text = ", ".join(dict.fromkeys(p for p in parts if p))
    if text:
        out["text"] = text
    lat, lon = where.get("latitude"), where.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        out["lat"], out["lon"] = float(lat), float(lon)
    return out


def _attachments(item: Item, meta: Mapping[str, Any], ctx: NormalizeContext) -> list[Any]:
    stored = _dict(meta.get("media"))
    out = []
    for ref in item.media:
        got = _dict(stored.get(ref.url))
        sha = _str(got.get("sha256"))
        size = got.get("size")
        if not sha or not isinstance(size, int):
            continue  # not downloaded: no honest size/sha256 to give (see module docstring)
        out.append(
            {
                "filename": _str(got.get("filename")) or ref.filename or _filename(ref.url),
                "content_type": _str(got.get("content_type"))
                or ref.content_type
                or _guess_type(ref.url)
                or "application/octet-stream",
                "size": size,
                "sha256": sha,
                "uri": ctx.attachment_uri(sha),
            }
        )
    return out


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One Graph response page or webhook delivery → one outcome per citizen item."""
    try:
        found = items(raw, ctx.settings, ctx.channel_kind)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return [Rejection(f"not a Graph API JSON payload ({exc.__class__.__name__})")]
    outcomes: list[Outcome] = []
    for item in found:
        if item.received_at is None:
            outcomes.append(Rejection("item has no created_time/timestamp", item.external_id))
            continue
        fields: dict[str, Any] = {
            "external_id": item.external_id,
            "received_at": item.received_at,
            "reporter": {"name": item.author_name, "handle": item.handle},
            "text": item.text,
            "in_reply_to": item.in_reply_to,
            "attachments": _attachments(item, raw.meta, ctx),
            "location": _location(item.place),
        }
        outcomes.append(build_report(fields, ctx))
    return outcomes
