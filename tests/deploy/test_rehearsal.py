"""The deploy rehearsal on what `make synth` wrote: templates, layer and function assets.

Each function is imported by Python 3.13 with only boto3 beside it, answers real events against
moto + the emulator, and every AWS call it makes is checked against its own policy in the
template, in both directions.
"""

from __future__ import annotations

import json

import pytest

from infra.constructs.layer import RUNTIME_PROVIDED
from infra.stages import STAGES
from musicboxd import routes

from . import new_account
from .iam import calls_from_record, function_statements, unused_grants

# Granted actions no code path calls, because the Lambda service itself uses the execution role:
# - logs: the runtime writes the function's log stream;
# - xray: active tracing sends segments through the runtime's X-Ray integration;
# - sqs: the asynchronous on-failure destination (failed populate/cleanup runs) is sent by
#   Lambda, only when a run fails, which the rehearsal does not provoke.
PLATFORM_ACTIONS = (
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)


def body(answer: dict) -> dict:
    return json.loads(answer["body"])


# --- what make synth wrote -----------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_shipped_template_passes_the_new_account_rules(shipped, stage):
    assert list(new_account.problems(shipped[stage].template)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_ships_code_and_the_layer(shipped, stage):
    layer = shipped[stage].layer_dir()
    assert (layer / "musicboxd" / "__pycache__").is_dir()
    for name in routes.FUNCTIONS:
        _, resource = shipped[stage].function(name)
        assert (shipped[stage].asset_dir(resource) / "handler.py").is_file()


# --- imported as Lambda imports it -------------------------------------------------------------


@pytest.mark.parametrize("name", routes.FUNCTIONS)
def test_imported_by_python_313_with_only_boto3_beside_it(rehearsal, name):
    for run in rehearsal.runs[name]:
        modules = run.report["modules"]
        assert run.report["python"][:2] == [3, 13]
        assert [m for m in modules["outside"] if not m.startswith("__main__:")] == []
        assert set(modules["top_level"]["runtime"]) <= set(RUNTIME_PROVIDED), modules["top_level"]["runtime"]
        assert modules["top_level"]["asset"] == ["handler"]
        assert "musicboxd" in modules["top_level"]["layer"]
        assert modules["no_bytecode"] == [], "layer modules compiled at import: the layer lacks their .pyc"


# --- answering real events ----------------------------------------------------------------------


def test_search_answers_api_gateway_proxy_events(rehearsal):
    first, second = rehearsal.runs["search"]
    health, miss, hit, bad, suggest, stats, openapi = first.answers
    assert health["statusCode"] == 200 and body(health) == {"status": "ok"}
    assert miss["statusCode"] == 200 and body(miss)["albums"]
    assert hit["multiValueHeaders"]["X-Cache"] == ["HIT"] and body(hit)["albums"] == body(miss)["albums"]
    assert bad["statusCode"] == 400 and body(bad)["error"]["status"] == 400
    assert suggest["statusCode"] == 200 and body(suggest)["source"] == "index"
    assert stats["statusCode"] == 200 and body(stats)["spotify_calls"]["total"] >= 1
    assert body(openapi)["servers"] == [{"url": "/dev"}], "Swagger's Try it out must keep the stage prefix"
    (down,) = second.answers  # Spotify and MusicBrainz failing: cache-only, else a 503 envelope
    assert down["statusCode"] in (200, 503)
    assert down["statusCode"] == 200 or body(down)["error"]["status"] == 503


def test_album_answers_api_gateway_proxy_events(rehearsal):
    (run,) = rehearsal.runs["album"]
    miss, hit, bad = run.answers
    assert miss["statusCode"] == 200 and body(miss)["id"] == rehearsal.album_id
    assert miss["multiValueHeaders"]["X-Cache"] == ["MISS"] and hit["multiValueHeaders"]["X-Cache"] == ["HIT"]
    assert bad["statusCode"] == 400 and body(bad)["error"]["status"] == 400


def test_populate_answers_its_eventbridge_inputs(rehearsal):
    (run,) = rehearsal.runs["populate"]
    resume, weekly = run.answers
    assert resume["status"] == "idle"  # {"resume_only": true} with nothing to resume
    assert weekly["status"] in ("done", "stopped") and weekly["albums_cached"] > 0


def test_cleanup_answers_its_eventbridge_input(rehearsal):
    (run,) = rehearsal.runs["cleanup"]
    (report,) = run.answers
    assert report["status"] == "done"
    assert report["deleted"] >= 1 and rehearsal.expired_left is None
    assert report["refreshed"] == 1  # the album users asked for, expiring within a day


# --- IAM as enforced ----------------------------------------------------------------------------


def recorded(rehearsal, name):
    table_arns = {"musicboxd-rehearsal": rehearsal.resolver.arns[next(iter(rehearsal.resolver.arns))]}
    return [
        call for run in rehearsal.runs[name] for record in run.calls for call in calls_from_record(record, table_arns)
    ]


def statements(rehearsal, name):
    _, resource = rehearsal.shipped.function(name)
    return function_statements(rehearsal.shipped.template, resource["Properties"]["FunctionName"], rehearsal.resolver)


@pytest.mark.parametrize("name", routes.FUNCTIONS)
def test_every_call_is_allowed_by_the_functions_own_policy(rehearsal, name):
    from .iam import allows

    policy = statements(rehearsal, name)
    calls = recorded(rehearsal, name)
    assert calls, f"{name} made no AWS call: the rehearsal exercised nothing"
    denied = sorted({f"{c.action} on {c.resource}" for c in calls if not allows(policy, c)})
    assert denied == [], f"{name}'s role would be refused: {denied}"


@pytest.mark.parametrize("name", routes.FUNCTIONS)
def test_nothing_is_granted_that_no_call_uses(rehearsal, name):
    unused = unused_grants(statements(rehearsal, name), recorded(rehearsal, name), PLATFORM_ACTIONS)
    assert unused == [], f"{name} is granted more than it calls: {unused}"
