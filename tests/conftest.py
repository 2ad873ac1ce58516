"""Shared fixtures: a real moto server on loopback (DynamoDB + SSM) and dummy AWS credentials."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Musicboxd")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def table_settings(moto_url):
    """Settings for a fresh, empty table on the moto server."""
    from musicboxd.adapters.dynamo import create_table, make_model
    from musicboxd.config import Settings

    settings = Settings(
        table_name=f"t-{uuid.uuid4().hex[:8]}",
        dynamodb_endpoint_url=moto_url,
        ssm_endpoint_url=moto_url,
        token_parameter=f"/test/{uuid.uuid4().hex[:8]}/token",
    )
    create_table(make_model(settings))
    return settings
