"""Finding 6 of issue 15: every SSM and budget DynamoDB call fits in the request's remaining time."""

import pytest

from musicboxd.adapters.aws import DeadlineClient
from musicboxd.errors import DeadlineExceeded


def make(left):
    return DeadlineClient(
        "ssm", "us-east-1", "http://127.0.0.1:9", remaining=lambda: left, connect_timeout=1, read_timeout=2
    )


def test_timeouts_and_retries_shrink_to_the_time_left():
    roomy = make(float("inf")).client().meta.config
    assert (roomy.connect_timeout, roomy.read_timeout, roomy.retries["total_max_attempts"]) == (1, 2, 2)
    tight = make(0.6).client().meta.config
    assert tight.read_timeout == 0.5 and tight.connect_timeout == 0.5 and tight.retries["total_max_attempts"] == 1


def test_no_call_is_started_without_time_left():
    with pytest.raises(DeadlineExceeded):
        make(0.01).get_parameter(Name="/x")
