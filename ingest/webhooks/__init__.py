"""HTTP routers of channels that are pushed to (mounted by ``aduan serve`` under
``/webhooks/{channel name}``), and the signature check they share."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_matches(secret: bytes, body: bytes, header: str | None, prefix: str = "") -> bool:
    """Whether ``header`` is ``prefix`` + the hex HMAC-SHA256 of ``body``, compared in constant
    time (a plain ``==`` leaks how many leading characters were right)."""
    if not header or not header.startswith(prefix):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len(prefix) :].strip().lower().encode())
