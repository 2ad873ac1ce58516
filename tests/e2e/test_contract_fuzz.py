"""Contract fuzz: schemathesis' own CLI with every check on (``--checks all``) against the local API.

Bounded (``--max-examples``, deterministic) so it runs in about a minute: the coverage phase
(boundary values, missing parameters and headers, undeclared methods such as TRACE) and the
fuzzing phase, for every operation of /openapi.json. Any failure - a schema-valid request
answered 4xx, a schema-invalid one accepted, an answer off the document, an undeclared method
not answered 405 with Allow, an unsigned IAM call not 401 - fails the test with schemathesis'
report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.resilience_stack import resilience_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_EXAMPLES = 40  # per operation and phase


@pytest.fixture(scope="module")
def local_api():
    with resilience_stack(SPOTIFY_RATE_LIMIT="1000000", POPULATE_ON_START="false") as stack:
        stack.get("/search", q="warm up")
        yield stack.api


def test_schemathesis_with_every_check_finds_nothing(local_api, tmp_path):
    cli = Path(sys.executable).parent / "schemathesis"
    done = subprocess.run(
        [str(cli), "run", f"{local_api}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
         "--generation-deterministic", "--suppress-health-check", "all", "--continue-on-failure",
         "--request-timeout", "20", "--report", "junit", "--report-dir", str(tmp_path),
         "--header", "Authorization: AWS4-HMAC-SHA256 Credential=local"],  # /stats: signed (not verified locally)
        capture_output=True, text=True, timeout=540, cwd=tmp_path,  # its cache stays out of the repo
    )  # fmt: skip
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    assert " passed" in summary and "generated" in summary, summary
