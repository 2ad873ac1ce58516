"""The package's stdlib loggers write through the function's Powertools logger (fields, correlation id)."""

import io
import json
import logging
import uuid

import pytest
from aws_lambda_powertools import Logger

from musicboxd.log_config import PACKAGE, share_logger_config


@pytest.fixture
def restore_package_logger():
    package = logging.getLogger(PACKAGE)
    saved = (list(package.handlers), package.propagate, package.level)
    yield
    package.handlers, package.propagate = saved[0], saved[1]
    package.setLevel(saved[2])


def test_a_service_log_line_carries_the_functions_fields_and_correlation_id(restore_package_logger):
    stream = io.StringIO()
    service = f"populate-{uuid.uuid4().hex[:6]}"
    logger = Logger(service=service, stream=stream)
    share_logger_config(logger)
    logger.set_correlation_id("run-123")
    logging.getLogger("musicboxd.services.catalog").warning("upstream slow", extra={"ms": 900})
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "upstream slow" and line["level"] == "WARNING"
    assert line["service"] == service and line["correlation_id"] == "run-123" and line["ms"] == 900
    assert line["name"] == "musicboxd.services.catalog"
