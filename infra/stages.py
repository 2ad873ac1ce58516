"""Stages (``-c stage=dev|staging|prod``) and the context that tunes them.

Two settings answer Spotify's Developer Terms (docs/compliance.md) and are off in every stage
until the operator chooses them:

* ``popularity_sweep`` (context ``popularity_sweep``, function env ``POPULATE_SWEEP``): populate
  reads Spotify's year-filtered search lists page by page to learn its popularity order for the
  tier-1 index - about 1,948 Spotify calls per run in Development Mode against the emulator,
  ~7,800 for a real catalog - and keeps estimated ranks of tens of thousands of albums (never
  served, expiring with the index). Without it tier 1 learns order from cached searches only.
* ``require_api_key`` (context ``require_api_key``): catalog routes answer only callers that
  present an API key of the stage's usage plan (the Musicboxd apps), so the service is not a
  standalone metadata API; the usage plan's per-key throttle adds to the stage's limits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

STAGES = ("dev", "staging", "prod")


@dataclass(frozen=True)
class StageConfig:
    name: str
    log_retention: logs.RetentionDays
    # Table, named log groups, alarm key. Shared stages: RETAIN_ON_UPDATE_OR_DELETE
    # (CloudFormation "RetainExceptOnCreate"): kept on update/delete, but removed when the
    # stack's first create rolls back, so a retry never fails on "already exists".
    removal_policy: RemovalPolicy
    schedules_enabled: bool
    throttle_rate: float  # API stage steady-state requests/s
    throttle_burst: int
    web_origin: str
    spotify_mode: str = "development"
    spotify_market: str = "US"
    alert_email: str = ""  # required in prod (from_context refuses a prod stage without one)
    # API Gateway logs to CloudWatch only through the account-wide role, which a new account
    # lacks. true: the stack creates it (AWS::ApiGateway::Account, retained); false: the
    # account's existing setting is not trusted and access/execution logging is off.
    api_cloudwatch_role: bool = True
    waf_rate_limit: int = 1000  # requests per IP per 5 minutes to /search and /albums (AWS WAF)
    popularity_sweep: bool = False  # Spotify's terms: the operator's explicit choice (module docstring)
    require_api_key: bool = False  # catalog routes need an API key of the usage plan (prod: documented on)
    cdn: bool = False  # CloudFront in front of the API (infra/constructs/cdn.py)
    # Lambda SnapStart for the HTTP functions (published versions behind alias "live");
    # off in dev: every deploy publishes a version and takes a snapshot (minutes, cache cost).
    snap_start: bool = True
    # Extra settings for every function (musicboxd.config env names), e.g. POPULATE_CALL_BUDGET.
    function_env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """Physical-name prefix: musicboxd-<stage>."""
        return f"musicboxd-{self.name}"

    @property
    def stack_name(self) -> str:
        return f"Musicboxd-{self.name}"

    @property
    def parameter_prefix(self) -> str:
        """SSM parameter path of the stage: /musicboxd/<stage>."""
        return f"/musicboxd/{self.name}"

    @property
    def termination_protection(self) -> bool:
        return self.name == "prod"


DEFAULTS: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        log_retention=logs.RetentionDays.ONE_WEEK,
        removal_policy=RemovalPolicy.DESTROY,
        schedules_enabled=False,
        throttle_rate=20,
        throttle_burst=40,
        web_origin="http://localhost:5173",
        snap_start=False,
    ),
    "staging": StageConfig(
        name="staging",
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        schedules_enabled=True,
        throttle_rate=50,
        throttle_burst=100,
        web_origin="https://staging.musicboxd.example",
    ),
    "prod": StageConfig(
        name="prod",
        log_retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        schedules_enabled=True,
        throttle_rate=100,
        throttle_burst=200,
        web_origin="https://musicboxd.example",
        cdn=True,
    ),
}


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Env vars infra owns (derived from resources) or that must never be plain env (secrets/endpoints).
RESERVED_ENV = re.compile(
    r"^(TABLE_NAME|TOKEN_PARAMETER|SPOTIFY_CLIENT_(ID|SECRET)(_PARAMETER)?|POWERTOOLS_SERVICE_NAME|POPULATE_SWEEP|EDGE_ORIGIN_SECRET"
    r"|.*_ENDPOINT_URL|AWS_.*|LAMBDA_.*|_.*)$"
)


def _function_env(raw: object) -> dict[str, str]:
    """``-c function_env='{"POPULATE_CALL_BUDGET":"300"}'`` (CLI: JSON string; cdk.json: object)."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, dict):
        raise ValueError("context function_env must be an object of NAME: value")
    env = {}
    for name, value in raw.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or RESERVED_ENV.match(name):
            raise ValueError(f"context function_env: {name!r} is not a settable variable")
        env[name] = str(value)
    return env


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"context {name} must be true/false, got {value!r}")


def from_context(node: Node) -> StageConfig:
    """The stage chosen by ``-c stage=...`` with any context overrides applied."""
    name = str(node.try_get_context("stage") or "dev").strip().lower()
    if name not in DEFAULTS:
        raise ValueError(f"context stage must be one of {STAGES}, got {name!r}")
    cfg = DEFAULTS[name]
    overrides: dict[str, Any] = {}  # field name -> value; dataclasses.replace checks the names
    if origin := node.try_get_context("web_origin"):
        overrides["web_origin"] = str(origin).rstrip("/")
    if email := node.try_get_context("alert_email"):
        overrides["alert_email"] = str(email).strip()
    for key in ("schedules", "api_cloudwatch_role", "popularity_sweep", "require_api_key", "cdn", "snap_start"):
        raw = node.try_get_context(key)
        if raw is not None and raw != "":
            field = "schedules_enabled" if key == "schedules" else key
            overrides[field] = _flag(raw, key)
    if mode := node.try_get_context("spotify_mode"):
        if mode not in ("development", "extended"):
            raise ValueError(f"context spotify_mode must be development or extended, got {mode!r}")
        overrides["spotify_mode"] = mode
    if market := node.try_get_context("spotify_market"):
        overrides["spotify_market"] = str(market)
    if (raw_env := node.try_get_context("function_env")) not in (None, ""):
        overrides["function_env"] = _function_env(raw_env)
    stage = replace(cfg, **overrides)
    if stage.name == "prod" and not EMAIL.fullmatch(stage.alert_email):
        raise ValueError(
            "stage prod needs an alarm email: add -c alert_email=ops@example.com "
            "(make deploy STAGE=prod CDK_ARGS='-c alert_email=...'); "
            f"got {stage.alert_email!r}"
        )
    return stage
