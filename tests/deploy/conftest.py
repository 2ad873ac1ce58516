"""The deploy rehearsal's fixtures: what `make synth` writes, a Python 3.13 with only boto3, a local stack.

- ``shipped``: the pinned CLI's ``cdk synth`` of every stage into ``build/rehearsal/cdk.out``
  (gitignored; CDK reuses an asset folder whose hash it already staged, so the layer is rebuilt
  only when its sources, lock or recipe change). The layer is built with the shipping recipe for
  this machine's architecture (``MUSICBOXD_LAYER_PLATFORM=host``) so a local 3.13 can import it.
- ``python313``: a venv of Python 3.13 holding boto3 and its dependencies from
  ``requirements-dev.lock`` (hash-checked), as the Lambda runtime provides them.
- ``rehearsal``: moto (DynamoDB + SSM) and the Spotify emulator on loopback, the table created
  from the template's own definition, the credentials put as SecureStrings where the template
  says, then every function run (``runner.py``) on real events.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.constructs.layer import PLATFORM_ENV
from infra.paths import ROOT
from infra.stages import STAGES
from infra.toolchain import python313_like_lambda
from musicboxd import routes

from .iam import ACCOUNT, REGION, Resolver

REHEARSAL_DIR = ROOT / "build" / "rehearsal"
CDK_OUT = REHEARSAL_DIR / "cdk.out"
ALERT_EMAIL = "ops@musicboxd.example"
RUNNER = Path(__file__).with_name("runner.py")
LOCAL_TABLE = "musicboxd-rehearsal"


@dataclass
class Shipped:
    """One stage as `make synth` wrote it."""

    stage: str
    template_path: Path
    template: dict

    def function(self, name: str) -> tuple[str, dict]:
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("FunctionName", "").endswith(
                f"-{name}"
            ):
                return logical_id, resource
        raise KeyError(name)

    def asset_dir(self, resource: dict) -> Path:
        return CDK_OUT / resource["Metadata"]["aws:asset:path"]

    def layer_dir(self) -> Path:
        (layer,) = [r for r in self.template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
        return self.asset_dir(layer) / "python"


def cdk_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT"))}
    return env | {
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        PLATFORM_ENV: "host",
    }


def cli_synth(stage: str, *context: str) -> subprocess.CompletedProcess[str]:
    """`make synth STAGE=<stage>` with the output folder of the rehearsal."""
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    args = [str(cdk), "synth", "-c", f"stage={stage}", "--no-notices", "--quiet", "-o", str(CDK_OUT)]
    for item in context:
        args += ["-c", item]
    return subprocess.run(args, cwd=ROOT, env=cdk_env(), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def shipped() -> dict[str, Shipped]:
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    out: dict[str, Shipped] = {}
    for stage in STAGES:  # one after the other: the 2nd and 3rd reuse the staged assets
        done = cli_synth(stage, f"alert_email={ALERT_EMAIL}" if stage == "prod" else "alert_email=")
        assert done.returncode == 0, done.stdout + done.stderr
        path = CDK_OUT / f"Musicboxd-{stage}.template.json"
        out[stage] = Shipped(stage, path, json.loads(path.read_text()))
    return out


@pytest.fixture(scope="session")
def python313() -> Path:
    """Python 3.13 with only boto3 and its dependencies (the Lambda runtime's set), hash-checked."""
    return python313_like_lambda(REHEARSAL_DIR, ROOT / "requirements-dev.lock")


@dataclass
class Run:
    """One function run as Lambda would: its report from runner.py."""

    function: str
    events: list[dict]
    report: dict

    @property
    def answers(self) -> list[Any]:
        assert all(r["ok"] for r in self.report["results"]), [r.get("error") for r in self.report["results"]]
        return [r.get("answer") for r in self.report["results"]]

    @property
    def calls(self) -> list[dict]:
        return [call for r in self.report["results"] for call in r["calls"]]


@dataclass
class Rehearsal:
    shipped: Shipped
    moto_url: str
    emulator_url: str
    runs: dict[str, list[Run]] = field(default_factory=dict)  # function -> its containers' runs
    expired_left: dict | None = None  # the seeded expired item after cleanup ran
    album_id: str = ""

    @property
    def resolver(self) -> Resolver:
        (table_id,) = [k for k, r in self.shipped.template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
        return Resolver(
            refs={table_id: LOCAL_TABLE},
            arns={table_id: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{LOCAL_TABLE}"},
        )


def proxy_event(method: str, path: str, resource: str, stage: str, **query: str) -> dict:
    """An API Gateway REST (v1) proxy event as the execute-api endpoint sends it."""
    parameters = {"id": path.rsplit("/", 1)[1]} if "{id}" in resource else None
    request_id = f"rehearsal-{time.monotonic_ns()}"
    domain = f"abc123.execute-api.{REGION}.amazonaws.com"
    headers = {"Host": domain, "Origin": "https://musicboxd.example", "User-Agent": "rehearsal"}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "domainName": domain,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "rehearsal"},
            "accountId": ACCOUNT,
            "apiId": "abc123",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def scheduled_event(detail: dict | None = None) -> dict:
    """What an EventBridge schedule rule with no input delivers (detail {})."""
    return {
        "version": "0",
        "id": "rehearsal",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/rehearsal"],
        "detail": detail or {},
    }


def rule_inputs(template: dict, function_logical_id: str) -> list[dict]:
    """The constant inputs the template's rules send this function (e.g. {"resume_only": true})."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        for target in resource["Properties"]["Targets"]:
            if function_logical_id in json.dumps(target["Arn"]) and "Input" in target:
                found.append(json.loads(target["Input"]))
    return found


def create_table_from_template(dynamodb: Any, template: dict) -> None:
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    props = table["Properties"]
    dynamodb.create_table(
        TableName=LOCAL_TABLE,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode=props["BillingMode"],
        GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
    )
    ttl = props["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=LOCAL_TABLE, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )


def run_function(rehearsal: Rehearsal, python: Path, name: str, events: list[dict], tmp: Path) -> Run:
    shipped = rehearsal.shipped
    logical_id, resource = shipped.function(name)
    props = resource["Properties"]
    resolve = rehearsal.resolver
    env = {k: str(resolve(v)) for k, v in props["Environment"]["Variables"].items()}
    emulator = rehearsal.emulator_url
    env |= {
        # What the Lambda service sets, then the local endpoints (the only additions).
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_LAMBDA_FUNCTION_NAME": props["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props["MemorySize"]),
        "LAMBDA_TASK_ROOT": "/var/task",
        "PATH": os.environ["PATH"],
        "DYNAMODB_ENDPOINT_URL": rehearsal.moto_url,
        "SSM_ENDPOINT_URL": rehearsal.moto_url,
        "SPOTIFY_API_URL": f"{emulator}/v1",
        "SPOTIFY_ACCOUNTS_URL": f"{emulator}/api/token",
        "MUSICBRAINZ_URL": emulator,
        "COVERART_URL": emulator,
    }
    tmp.mkdir(parents=True, exist_ok=True)
    job = tmp / f"{name}.json"
    out = tmp / f"{name}.out.json"
    job.write_text(
        json.dumps(
            {
                "asset": str(shipped.asset_dir(resource)),
                "layer": str(shipped.layer_dir()),
                "handler": props["Handler"],
                "function_name": props["FunctionName"],
                "timeout_seconds": props["Timeout"],
                "memory_mb": props["MemorySize"],
                "events": events,
                "out": str(out),
            }
        )
    )
    # -I: no PYTHONPATH, no user site, no script directory; -B: /opt is read-only on Lambda.
    done = subprocess.run(
        [str(python), "-I", "-B", str(RUNNER), str(job)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
    )
    assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return Run(name, events, json.loads(out.read_text()))


def seed_expired_item(dynamodb: Any) -> str:
    """An expired negative-cache item TTL has not reaped yet: cleanup must delete it."""
    now = int(time.time())
    album_id = "0RehearsalExpiredItem0"
    dynamodb.put_item(
        TableName=LOCAL_TABLE,
        Item={
            "pk": {"S": f"ALBUM#{album_id}"},
            "sk": {"S": "A"},
            "kind": {"S": "MISSING"},
            "fetched_at": {"N": str(now - 7200)},
            "expires_at": {"N": str(now - 3600)},
        },
    )
    return f"ALBUM#{album_id}"


@pytest.fixture(scope="session")
def rehearsal(shipped, python313, tmp_path_factory) -> Rehearsal:
    """Every function of the dev stage run on real events against moto + the emulator."""
    import boto3
    import httpx
    from moto.server import ThreadedMotoServer

    from tools.emulator.server import start_emulator

    stage = shipped["dev"]
    tmp = tmp_path_factory.mktemp("rehearsal")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request otherwise
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    emulator = start_emulator(port=0, quiet=True)
    try:
        host, port = moto.get_host_and_port()
        rehearsal = Rehearsal(stage, f"http://{host}:{port}", emulator.url)
        client = dict(
            region_name=REGION, endpoint_url=rehearsal.moto_url, aws_access_key_id="x", aws_secret_access_key="x"
        )
        dynamodb = boto3.client("dynamodb", **client)
        ssm = boto3.client("ssm", **client)
        create_table_from_template(dynamodb, stage.template)
        variables = stage.function("search")[1]["Properties"]["Environment"]["Variables"]
        for key, value in (
            ("SPOTIFY_CLIENT_ID_PARAMETER", "rehearsal-id"),
            ("SPOTIFY_CLIENT_SECRET_PARAMETER", "rehearsal-secret"),
        ):
            ssm.put_parameter(Name=variables[key], Value=value, Type="SecureString")
        sample = httpx.get(f"{emulator.url}/_emulator/catalog/sample", params={"n": 3}).json()
        album_id = sample["albums"][0]["id"]
        query, other_query = sample["albums"][1]["name"], sample["albums"][2]["name"]
        expired_pk = seed_expired_item(dynamodb)
        populate_id = stage.function("populate")[0]

        def api(method: str, path: str, resource: str, **params: str) -> dict:
            return proxy_event(method, path, resource, "dev", **params)

        def new_container_without_token() -> None:
            """Each run is a cold container that must fetch the Spotify token (lease + SSM)."""
            if ssm.get_parameters(Names=[variables["TOKEN_PARAMETER"]])["Parameters"]:
                ssm.delete_parameter(Name=variables["TOKEN_PARAMETER"])

        def spotify_down() -> None:
            rules = [{"path": "^/v1/", "status": 503, "times": 50}, {"path": "^/ws/2/", "status": 503, "times": 50}]
            httpx.post(f"{emulator.url}/_emulator/faults", json={"rules": rules}).raise_for_status()

        def spotify_back() -> None:
            httpx.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
            new_container_without_token()

        def album_expires_within_a_day() -> None:
            """Cleanup refreshes an album users asked for that expires within a day (Spotify call)."""
            dynamodb.update_item(
                TableName=LOCAL_TABLE,
                Key={"pk": {"S": f"DEMAND#{time.strftime('%Y-%m-%d', time.gmtime())}"}, "sk": {"S": f"A#{album_id}"}},
                UpdateExpression="ADD hits :n",
                ExpressionAttributeValues={":n": {"N": "3"}},
            )
            dynamodb.update_item(
                TableName=LOCAL_TABLE,
                Key={"pk": {"S": f"ALBUM#{album_id}"}, "sk": {"S": "A"}},
                UpdateExpression="SET expires_at = :soon",
                ExpressionAttributeValues={":soon": {"N": str(int(time.time()) + 3600)}},
            )
            new_container_without_token()

        steps: list[tuple[str, list[dict], Any]] = [
            (
                "search",
                [
                    api("GET", "/health", "/health"),
                    api("GET", "/search", "/search", q=query, limit="3"),  # miss: token, Spotify, write
                    api("GET", "/search", "/search", q=query, limit="3"),  # hit
                    api("GET", "/search", "/search", q="", limit="99"),  # 400, touches nothing
                    api("GET", "/suggest", "/suggest", q=query[:3]),
                    api("GET", "/stats", "/stats", hours="24"),
                    api("GET", "/openapi.json", "/openapi.json"),
                ],
                new_container_without_token,
            ),
            (
                "album",
                [
                    api("GET", f"/albums/{album_id}", "/albums/{id}"),  # miss
                    api("GET", f"/albums/{album_id}", "/albums/{id}"),  # hit
                    api("GET", "/albums/not-an-id", "/albums/{id}"),  # 400
                ],
                new_container_without_token,
            ),
            # Spotify and MusicBrainz down: the last resort answers from cached albums (GSI).
            ("search", [api("GET", "/search", "/search", q=other_query, limit="3")], spotify_down),
            # The resume rule's input (nothing to resume yet), then the weekly rule's event with
            # overrides in detail, as EventBridge passes them (a budget keeps it short).
            (
                "populate",
                rule_inputs(stage.template, populate_id) + [scheduled_event({"budget": 40, "sweep": False})],
                spotify_back,
            ),
            ("cleanup", [scheduled_event()], album_expires_within_a_day),
        ]
        assert {name for name, _, _ in steps} == set(routes.FUNCTIONS)
        for number, (name, events, before) in enumerate(steps):
            before()
            run = run_function(rehearsal, python313, name, events, tmp / str(number))
            rehearsal.runs.setdefault(name, []).append(run)
        rehearsal.expired_left = dynamodb.get_item(
            TableName=LOCAL_TABLE, Key={"pk": {"S": expired_pk}, "sk": {"S": "A"}}
        ).get("Item")
        rehearsal.album_id = album_id
        yield rehearsal
    finally:
        emulator.stop()
        moto.stop()
