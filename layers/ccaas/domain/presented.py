"""The credential a request presents, read one way by the authorizer (`authorize_request.api_key_of`) and by $connect
when it reads the key again (`push.SocketEvent.secret`). A module of its own, importing nothing: the authorizer's cold
start paid ~9 ms for the push module's models to read six lines, and the stream consumers import neither."""
from __future__ import annotations

from collections.abc import Mapping


def _bare(value: str | None) -> str:
    value = (value or "").strip()
    return value[7:].strip() if value.lower().startswith("bearer ") else value


def presented_secret(headers: Mapping[str, str] | None, query: Mapping[str, str] | None) -> str:
    """The API key or user token: the `Authorization` header (Bearer or bare) when it carries one, else `?token=`;
    "" for none."""
    authorization = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    return _bare(authorization) or _bare((query or {}).get("token"))
