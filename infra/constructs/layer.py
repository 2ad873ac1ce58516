"""Shared layer (bundled locally with pip, no Docker) and the four Lambda functions."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import (
    Annotations,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    FileSystem,
    ILocalBundling,
    RemovalPolicy,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.paths import FUNCTIONS_DIR, LAYER_DIR
from infra.stages import StageConfig
from infra.toolchain import find_python313
from musicboxd import metric_names, routes

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = "3.13"  # must match RUNTIME
# Every transitive dependency pinned with its hashes for cp313 / aarch64 (`make lock`, uv).
LAYER_LOCK = LAYER_DIR / "requirements.lock"
# The deploy rehearsal (tests/deploy) builds the same recipe for this machine so a local
# Python 3.13 can import it: MUSICBOXD_LAYER_PLATFORM=host. Never set for a deployment.
PLATFORM_ENV = "MUSICBOXD_LAYER_PLATFORM"
# Shipped by the Lambda Python runtime: never in the layer (snapshot_restore_py: 3.12+, SnapStart hooks).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "jmespath", "six", "snapshot_restore_py")
RUNTIME_PROVIDED_DISTS = (
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "python_dateutil",
    "jmespath",
    "six",
)
JUNK_DIRS = ("__pycache__",)
LAYER_EXCLUDE = ["**/__pycache__", "**/*.pyc", "**/tests"]
LAYER_MOUNT = "/opt/python"  # where Lambda extracts the layer's python/ folder


def pip_platforms() -> tuple[str, ...]:
    """Wheel platforms of the build: Lambda's (aarch64), or this machine's for the rehearsal."""
    machine = platform.machine() if os.environ.get(PLATFORM_ENV) == "host" else "aarch64"
    return (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}")  # AL2023 glibc 2.34 >= both


def prune_layer(site: Path) -> None:
    """Remove what the runtime already has and what is never imported."""
    for name in RUNTIME_PROVIDED:
        shutil.rmtree(site / name, ignore_errors=True)
        (site / f"{name}.py").unlink(missing_ok=True)
    for dist in site.glob("*.dist-info"):
        if dist.name.split("-")[0].lower() in RUNTIME_PROVIDED_DISTS:
            shutil.rmtree(dist)
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts, unusable in a layer
    for junk in [p for p in site.rglob("*") if p.is_dir() and p.name in JUNK_DIRS]:
        shutil.rmtree(junk, ignore_errors=True)
    for stub in [*site.rglob("*.pyc"), *site.rglob("*.pyi")]:
        stub.unlink()
    for stubs_pkg in site.glob("*-stubs"):  # type stubs only, never imported
        shutil.rmtree(stubs_pkg)


def compile_layer(site: Path, python313: str) -> None:
    """Bytecode by the runtime's Python, checked by hash only (zip timestamps never matter).

    /opt is read-only on Lambda: without these files every cold start compiles from source.
    """
    done = subprocess.run(
        [python313, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
        + ["-s", str(site), "-p", LAYER_MOUNT, str(site)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"compileall failed:\n{done.stdout}{done.stderr}")


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    """Builds ``python/`` for the Lambda platform with the local pip from the hashed lock."""

    def __init__(self, source: Path, python_version: str = PYTHON_VERSION) -> None:
        self.source = source
        self.python_version = python_version

    def try_bundle(self, output_dir: str, *_args: object, **_kwargs: object) -> bool:
        python313 = find_python313()  # fail before downloading anything
        site = Path(output_dir) / "python"
        site.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-r",
            str(self.source / LAYER_LOCK.name),
            "--require-hashes",
            "--no-deps",
            "--target",
            str(site),
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]
        for wheel_platform in pip_platforms():
            cmd += ["--platform", wheel_platform]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"layer bundling failed ({' '.join(cmd)}):\n{done.stdout}{done.stderr}")
        shutil.copytree(
            self.source / "python" / "musicboxd",
            site / "musicboxd",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
            dirs_exist_ok=True,
        )
        prune_layer(site)
        compile_layer(site, python313)
        return True


def layer_asset_hash() -> str:
    """Sources + lock (both under layers/common) + the build recipe: one commit, one set of bytes."""
    recipe = f"pip-layer-v2|lock+hashes|compileall-unchecked-hash|cp{PYTHON_VERSION}|{'+'.join(pip_platforms())}"
    return FileSystem.fingerprint(
        str(LAYER_DIR), exclude=LAYER_EXCLUDE, extra_hash=f"{recipe}|{'+'.join(RUNTIME_PROVIDED)}"
    )


def common_layer(scope: Construct, id: str) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        id,
        description="musicboxd shared package + locked runtime deps (Powertools, pydantic, httpx, ...), cp313 bytecode",
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        code=lambda_.Code.from_asset(
            str(LAYER_DIR),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=layer_asset_hash(),
            exclude=LAYER_EXCLUDE,
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.13"),
                local=PipLayerBundler(LAYER_DIR),
            ),
        ),
    )


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # directory under functions/, == POWERTOOLS_SERVICE_NAME == metric dimension
    memory_mb: int
    timeout: Duration
    description: str = ""
    snap_start: bool = False  # a user waits on its cold starts (musicboxd.snapstart has the hooks)


SPECS: dict[str, FunctionSpec] = {
    # search also loads the tier-1 index (5.3 MB compressed for 50k albums, ~0.13 s to load, in the
    # SnapStart snapshot where enabled): 1 GB buys the memory and ~0.6 vCPU for that cold path.
    "search": FunctionSpec(
        "search", 1024, Duration.seconds(10), description="GET /search, /suggest, /stats, docs", snap_start=True
    ),
    "album": FunctionSpec("album", 512, Duration.seconds(10), description="GET /albums/{id}", snap_start=True),
    # No reserved concurrency: a new account's quota is 10 and Lambda refuses any reservation
    # that leaves fewer than 10 unreserved. One run at a time is the DynamoDB lease's job
    # (musicboxd.jobs), not Lambda's. populate also rebuilds the tier-1 index after a run.
    "populate": FunctionSpec("populate", 1024, Duration.minutes(15), "weekly popular-tier fill + index"),
    "cleanup": FunctionSpec("cleanup", 512, Duration.minutes(5), "daily reap + refresh-ahead"),
}
assert RUNTIME.name == f"python{PYTHON_VERSION}"
assert set(SPECS) == set(routes.FUNCTIONS), "every function in musicboxd.routes.FUNCTIONS needs a spec"


LIVE_ALIAS = "live"


class Functions(Construct):
    """The layer and one function per ``musicboxd.routes.FUNCTIONS`` entry.

    ``targets`` is what API Gateway and schedules invoke: with SnapStart (stage setting
    ``snap_start``) the alias ``live`` on the version published for this code, else the function.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.layer = common_layer(self, "CommonLayer")
        self.functions: dict[str, lambda_.Function] = {}
        self.targets: dict[str, lambda_.IFunction] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for name in routes.FUNCTIONS:
            spec = SPECS[name]
            snap_start = spec.snap_start and stage.snap_start
            fn_name = f"{stage.prefix}-{name}"
            log_group = logs.LogGroup(
                self,
                f"{name.title()}Logs",
                log_group_name=f"/aws/lambda/{fn_name}",
                retention=stage.log_retention,
                removal_policy=stage.removal_policy,
            )
            # Own role instead of AWSLambdaBasicExecutionRole: logs only to this log group.
            role = iam.Role(
                self,
                f"{name.title()}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{fn_name}: logs, X-Ray, cache table, Spotify parameters",
            )
            log_group.grant_write(role)
            fn = lambda_.Function(
                self,
                f"{name.title()}Function",
                function_name=fn_name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler="handler.handler",
                code=lambda_.Code.from_asset(
                    str(FUNCTIONS_DIR / name),
                    exclude=["**/__pycache__", "**/*.pyc", "**/tests"],
                ),
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=spec.timeout,
                role=role,
                log_group=log_group,
                logging_format=lambda_.LoggingFormat.JSON,
                tracing=lambda_.Tracing.ACTIVE,
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
                # A superseded version (and its snapshot's cache charge) goes with the next deploy.
                current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
                environment={
                    **environment,
                    "POWERTOOLS_SERVICE_NAME": name,
                    "POWERTOOLS_METRICS_NAMESPACE": metric_names.NAMESPACE,
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
            )
            acknowledge(
                fn,  # CDK puts the tracing statement in the function's inline policy
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray active tracing: xray:PutTraceSegments/PutTelemetryRecords have no "
                "resource-level permissions (AWS requires Resource '*').",
            )
            acknowledge(
                fn,
                "AwsSolutions-L1",
                "python3.13 on purpose: the layer's compiled wheels (pydantic-core) are built "
                "for cp313 and the code is tested on 3.13; moving to 3.14 is a planned change.",
            )
            self.functions[name] = fn
            self.targets[name] = fn
            if snap_start:
                self.targets[name] = lambda_.Alias(
                    self, f"{name.title()}Live", alias_name=LIVE_ALIAS, version=fn.current_version
                )
                Annotations.of(fn).acknowledge_warning(
                    "@aws-cdk/aws-lambda:snapStartRequirePublish",
                    "published: alias 'live' points at fn.current_version, and API Gateway invokes the alias",
                )
            self.log_groups[name] = log_group


if __name__ == "__main__":  # `make layer`: build the layer alone into the given folder
    target = Path(sys.argv[1])
    PipLayerBundler(LAYER_DIR).try_bundle(str(target))
    total = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"layer in {target}: {total / 1e6:.1f} MB unzipped, platforms {', '.join(pip_platforms())}")
