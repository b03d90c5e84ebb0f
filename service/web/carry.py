"""Carrying a previewed upload from its preview page to the confirm button, without storing it anywhere.

The preview page holds the rows read from the file, in canonical form (a CSV of ids, ``;`` lists and ISO
dates, compressed), in a hidden field with a signature over the rows and the signed-in session (HMAC with the
session secret). The confirm posts them back: rows changed in the browser, or carried into another session,
are refused, and the upload runs again on exactly the rows previewed, all or nothing. Nothing is kept on the
server between the two steps, so a preview abandoned costs nothing and any worker or replica can confirm.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib

MAX_UNPACKED = 20_000_000  # bytes a carried upload may unpack to (a 1 MB upload's rows are far less)


def _signature(secret: str, bound_to: str, payload: str) -> str:
    message = f"{bound_to}\n{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pack(content: bytes, *, secret: str, bound_to: str) -> tuple[str, str]:
    """(payload, signature) for the hidden fields of a confirm form."""
    payload = base64.urlsafe_b64encode(zlib.compress(content, 9)).decode("ascii")
    return payload, _signature(secret, bound_to, payload)


def unpack(payload: object, signature: object, *, secret: str, bound_to: str) -> bytes | None:
    """The carried file, or None when it is missing, altered or not this session's."""
    if not isinstance(payload, str) or not isinstance(signature, str) or not payload:
        return None
    if not hmac.compare_digest(_signature(secret, bound_to, payload), signature):
        return None
    try:
        inflater = zlib.decompressobj()
        content = inflater.decompress(base64.urlsafe_b64decode(payload.encode("ascii")), MAX_UNPACKED)
    except (ValueError, zlib.error):
        return None
    return None if inflater.unconsumed_tail else content
