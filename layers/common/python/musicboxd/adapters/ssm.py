"""SSM Parameter Store adapter: the shared token (SecureString) and deployed secrets.

Uses a plain botocore client (boto3 is not needed, and botocore ships with the runtime).
"""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from musicboxd.adapters.aws import botocore_client
from musicboxd.config import Settings
from musicboxd.ports import Token


def ssm_client(region: str, endpoint_url: str):
    return botocore_client("ssm", region, endpoint_url, connect_timeout=1, read_timeout=2, max_attempts=3)


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


def client_credentials(settings: Settings, client=None) -> tuple[str, str]:
    """(client_id, client_secret): plain settings locally, SSM SecureStrings when deployed."""
    cid, secret = settings.spotify_client_id, settings.spotify_client_secret
    names = [n for n in (settings.spotify_client_id_parameter, settings.spotify_client_secret_parameter) if n]
    if (cid and secret) or not names:
        return cid, secret
    client = client or ssm_client(settings.aws_region, settings.ssm_endpoint_url)
    try:
        found = client.get_parameters(Names=names, WithDecryption=True)
    except (ClientError, BotoCoreError):
        return cid, secret
    values = {p["Name"]: p["Value"] for p in found.get("Parameters", [])}
    return (
        cid or values.get(settings.spotify_client_id_parameter, ""),
        secret or values.get(settings.spotify_client_secret_parameter, ""),
    )
