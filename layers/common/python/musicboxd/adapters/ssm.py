"""SSM Parameter Store adapter: the shared token (SecureString) and deployed secrets.

Uses a plain botocore client (boto3 is not needed, and botocore ships with the runtime)
whose timeouts and retries fit in the request's remaining time (``DeadlineClient``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from musicboxd.adapters.aws import DeadlineClient
from musicboxd.config import Settings
from musicboxd.errors import Unavailable
from musicboxd.ports import Token


def ssm_client(region: str, endpoint_url: str, *, remaining: Callable[[], float] = lambda: float("inf")) -> Any:
    return DeadlineClient(
        "ssm", region, endpoint_url, remaining=remaining, connect_timeout=1, read_timeout=2, max_attempts=3
    )


class SsmTokenStore:
    """TokenStore in one SecureString parameter holding ``{"access_token", "expires_at"}``."""

    def __init__(self, client, name: str):
        self._client = client
        self._name = name

    def load(self) -> Token | None:
        try:
            value = self._client.get_parameter(Name=self._name, WithDecryption=True)["Parameter"]["Value"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return None
            raise
        try:
            body = json.loads(value)
            return Token(access_token=str(body["access_token"]), expires_at=float(body["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None  # a placeholder or a corrupt value: fetch a new token

    def save(self, token: Token) -> None:
        self._client.put_parameter(
            Name=self._name,
            Value=json.dumps({"access_token": token.access_token, "expires_at": token.expires_at}),
            Type="SecureString",
            Overwrite=True,
        )


class CachedCredentials:
    """(client_id, client_secret): plain settings locally, SSM SecureStrings when deployed.

    Read from SSM once per container (SSM allows ~40 GetParameter/s per account); a failed or
    incomplete read raises Unavailable, never empty strings (Spotify would answer invalid_client).
    """

    def __init__(self, settings: Settings, client: Any = None):
        self._settings = settings
        self._client = client
        self._values: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self.reads = 0

    def get(self) -> tuple[str, str]:
        with self._lock:
            if self._values is None:
                self._values = self._read()
            return self._values

    def _read(self) -> tuple[str, str]:
        s = self._settings
        cid, secret = s.spotify_client_id, s.spotify_client_secret
        names = [n for n in (s.spotify_client_id_parameter, s.spotify_client_secret_parameter) if n]
        if (cid and secret) or not names:
            return cid, secret
        client = self._client or ssm_client(s.aws_region, s.ssm_endpoint_url)
        self.reads += 1
        try:
            found = client.get_parameters(Names=names, WithDecryption=True)
        except (ClientError, BotoCoreError) as exc:
            raise Unavailable(f"Spotify credentials unreadable from SSM: {type(exc).__name__}") from exc
        values = {p["Name"]: p["Value"] for p in found.get("Parameters", [])}
        cid = cid or values.get(s.spotify_client_id_parameter, "")
        secret = secret or values.get(s.spotify_client_secret_parameter, "")
        if not (cid and secret):
            raise Unavailable("Spotify credentials missing in SSM")
        return cid, secret
