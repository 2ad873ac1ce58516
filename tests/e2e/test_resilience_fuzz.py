"""API fuzzing: schemathesis against /openapi.json of the local API (>= 1000 generated cases).

Zero server errors and zero schema violations: every response must match the documented
status codes, headers and bodies (all of schemathesis' checks). Both positive (valid per the
document) and negative (invalid) inputs are generated. Spotify's budget is set high here so
answers come from the emulator (a documented 503 would still count as a server error).

schemathesis' own pytest plugin does not run on pytest 9 yet, so this drives its Python API
(``operation.as_strategy()``) with hypothesis directly.
"""

from __future__ import annotations

import pytest

pytest.importorskip("tools.emulator.server", reason="needs the Spotify emulator (tools/emulator)")

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from musicboxd.normalize import normalize_query  # noqa: E402
from musicboxd.routes import ROUTES  # noqa: E402
from tests.e2e.resilience_stack import record_figures, resilience_stack  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = 300  # per operation and mode (operations without inputs run once)
# Every documented route (the same table API Gateway is built from); the docs themselves are not in the document.
OPERATIONS = [(r.method, r.path) for r in ROUTES if r.path not in ("/openapi.json", "/docs", "/docs/{asset}")]
NO_INPUT = {"/health", "/stats"}  # nothing to make invalid: positive mode only
CASES: dict[str, int] = {}
STATUSES: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_stack():
    with resilience_stack(SPOTIFY_RATE_LIMIT="1000000", POPULATE_ON_START="false") as s:
        s.get("/search", q="warm up")
        yield s
        record_figures("fuzz", {"cases": sum(CASES.values()), "by_operation": CASES, "statuses": STATUSES})


@pytest.fixture(scope="module")
def api_schema(fuzz_stack):
    schema = schemathesis.openapi.from_url(f"{fuzz_stack.api}/openapi.json")
    found = {(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()}
    assert found == set(OPERATIONS)
    return schema


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (m, p, g)
        for m, p in OPERATIONS
        for g in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if p not in NO_INPUT or g == GenerationMode.POSITIVE
    ],
    ids=str,
)
def test_api_conforms_to_its_openapi_document(api_schema, fuzz_stack, method, path, mode):
    operation = api_schema[path][method]
    key = f"{method} {path} {mode}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        q = (case.query or {}).get("q")
        if mode == GenerationMode.POSITIVE and isinstance(q, str):
            # The one rule a JSON Schema regex cannot say (documented in prose): a query made only of
            # control/format characters has nothing searchable and is a 400.
            assume(normalize_query(q) != "")
        response = case.call(base_url=fuzz_stack.api)
        CASES[key] = CASES.get(key, 0) + 1
        STATUSES[str(response.status_code)] = STATUSES.get(str(response.status_code), 0) + 1
        assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query}: {response.text}"
        case.validate_response(response)

    run()
    assert CASES[key] >= EXAMPLES * 0.5 or path in NO_INPUT


def test_case_count(fuzz_stack):
    assert sum(CASES.values()) >= 1000, CASES
