"""API tokens: issued once, stored only as a keyed hash, resolved per request with a short cache."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, InputError
from chalicelib.domain.tokens import ApiToken, Caller, IssuedToken
from chalicelib.repositories import tokens as repo
from chalicelib.services.providers import lead_provider_named

__all__ = [
    "Caller",
    "IssuedToken",
    "authenticate",
    "cached_caller",
    "clear_cache",
    "create_token",
    "derived_key",
    "hash_token",
    "list_tokens",
    "reset_key",
    "revoke_token",
]

MAX_TOKEN_LENGTH = 512  # longer bearer tokens are refused unhashed and unlooked-up
CACHE_MAX_ENTRIES = 10_000  # the per-process cache is emptied when it grows past this
TOKEN_BYTES = 15  # 20 URL-safe characters, as the real service issues
LAST_USED_INTERVAL = timedelta(hours=1)

_key_lock = threading.Lock()
_key: list[bytes] = []


def _hmac_key() -> bytes:
    """The token key: from the environment, from SSM (deployed stages), or the local non-secret."""
    with _key_lock:
        if not _key:
            settings = config.current()
            if settings.token_key:
                _key.append(settings.token_key.encode())
            elif settings.token_key_parameter:
                import boto3  # noqa: PLC0415 - only stages that keep the key in SSM pay for importing boto3

                ssm = boto3.client("ssm", region_name=settings.region)
                value = ssm.get_parameter(Name=settings.token_key_parameter, WithDecryption=True)
                _key.append(value["Parameter"]["Value"].encode())
            elif settings.stage in config.NON_SECRET_KEY_STAGES:
                _key.append(config.LOCAL_TOKEN_KEY.encode())
            else:
                raise RuntimeError("No token key: set TOKEN_HMAC_KEY or TOKEN_KEY_PARAMETER")
        return _key[0]


def reset_key() -> None:
    with _key_lock:
        _key.clear()
    _cache.clear()


def derived_key(purpose: str) -> bytes:
    """A key for another purpose (signing cursors, ...) derived from the token key, so no second secret is kept."""
    return hmac.new(_hmac_key(), f"ecf-lp-api:{purpose}".encode(), hashlib.sha256).digest()


def hash_token(token: str) -> str:
    return hmac.new(_hmac_key(), token.encode(), hashlib.sha256).hexdigest()


def create_token(lead_provider_name: str, now: datetime) -> IssuedToken:
    provider = lead_provider_named(lead_provider_name)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    token_id = str(uuid.uuid4())
    repo.create_token(
        ApiToken(
            hashed_token=hash_token(token),
            lead_provider_id=provider.id,
            lead_provider_name=provider.name,
            created_at=now,
            token_id=token_id,
        )
    )
    return IssuedToken(token=token, lead_provider_id=provider.id, lead_provider_name=provider.name, token_id=token_id)


def list_tokens(lead_provider_name: str) -> list[ApiToken]:
    """The provider's tokens, oldest first, revoked ones included (callers show the id, never the hash)."""
    provider = lead_provider_named(lead_provider_name)
    return sorted(repo.tokens_of(provider.id), key=lambda t: (t.created_at, t.token_id))


def revoke_token(token_id: str, now: datetime) -> ApiToken:
    """Revoke a token by its public id. Containers that cached it stop accepting it within
    ``AUTH_CACHE_SECONDS`` (the revocation delay); new lookups refuse it at once."""
    token = repo.find_by_id(token_id.strip())
    if token is None:
        raise InputError(m.TOKEN_UNKNOWN.format(token_id=token_id))
    try:
        repo.revoke(token.hashed_token, now)
    except Conflict as error:
        raise InputError(m.TOKEN_ALREADY_REVOKED.format(token_id=token_id)) from error
    return replace(token, revoked_at=now)


# hashed token -> (caller or None, expires at monotonic seconds)
_cache: dict[str, tuple[Caller | None, float]] = {}


def authenticate(token: str | None, now: datetime) -> Caller | None:
    """Resolve a bearer token. Results (hits and misses) are cached per process for a short time."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(token)
    ttl = config.current().auth_cache_seconds
    cached = _cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    record = repo.get_token(digest)
    if record is not None and not record.active:
        record = None  # revoked: exactly like an unknown token
    caller = Caller(record.lead_provider_id, record.lead_provider_name, record.token_id) if record else None
    if record is not None and (record.last_used_at is None or record.last_used_at < now - LAST_USED_INTERVAL):
        repo.touch_token(digest, now, now - LAST_USED_INTERVAL)
    if ttl > 0:
        if len(_cache) > CACHE_MAX_ENTRIES:
            _cache.clear()
        _cache[digest] = (caller, time.monotonic() + ttl)
    return caller


def cached_caller(token: str | None) -> Caller | None:
    """The caller of a valid token this process looked up within ``AUTH_CACHE_SECONDS``, without a lookup; None for
    any other token (unknown, revoked, or not looked up here lately)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    cached = _cache.get(hash_token(token))
    if cached is None or cached[1] <= time.monotonic():
        return None
    return cached[0]


def clear_cache() -> None:
    _cache.clear()
