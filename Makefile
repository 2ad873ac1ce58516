# Musicboxd album catalog: every developer and CI entry point.
# Each target installs what it needs (idempotently) into .venv / node_modules.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
REQS    := requirements-dev.lock requirements-dev.txt layers/common/requirements.txt
STAMP   := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha1sum | cut -c1-12)
export PYTHONPATH := $(CURDIR)/layers/common/python:$(CURDIR)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv test lint run build-index bench-tier1 tier1-check populate cleanup
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.lock
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv with pinned dependencies

test: venv node_modules ## run every test suite (unit, integration, infra, e2e, resilience, bench smoke)
	$(BIN)/pytest

lint: venv ## ruff check, ruff format --check, mypy on layers/ and infra/ (config: pyproject.toml); CI runs it first
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

populate: venv ## run the populate job once against make run's stack (BUDGET=, SOURCES=, ARGS=)
	$(BIN)/python -m tools.jobs populate $(if $(BUDGET),--budget $(BUDGET)) $(if $(SOURCES),--sources $(SOURCES)) $(ARGS)

cleanup: venv ## run the cleanup job once against make run's stack
	$(BIN)/python -m tools.jobs cleanup $(ARGS)

run: venv ## whole stack on 127.0.0.1: moto (DynamoDB+SSM), Spotify emulator, API on :3000 (API_PORT)
	$(BIN)/python -m tools.localstack

.PHONY: test-resilience
RESILIENCE_TESTS := tests/unit/test_budget.py tests/unit/test_fallbacks.py tests/unit/test_properties.py \
	tests/integration/test_rate_budget.py tests/integration/test_cache_only.py tests/e2e/test_resilience_faults.py \
	tests/e2e/test_resilience_fuzz.py tests/e2e/test_resilience_load.py
test-resilience: venv ## budget, circuit, fallbacks, fault injection, fuzzing, load (also part of make test)
	$(BIN)/pytest $(RESILIENCE_TESTS)

build-index: venv ## rebuild the tier-1 search index from the popular tier of `make run`'s stack
	$(BIN)/python -m tools.build_index

tier1-check: venv ## tier 1 vs the configured Spotify: share + top-5 agreement by query shape (N=200, ARGS=--offline)
	$(BIN)/python -m tools.tier1_check $(if $(N),--n $(N)) $(ARGS)

bench-tier1: venv ## tier-1 figures: index size/load for 18k and 50k albums; share + top-5 agreement vs the emulator
	$(BIN)/python -m tools.index_bench
	$(BIN)/python -m tools.tier1_bench

.PHONY: bench-abuse
bench-abuse: venv ## abuse run (loopback, ~3 min): legit Zipf traffic with/without an attacker on 127.0.0.2, PASS/FAIL lines
	$(BIN)/python -m bench.abuse

.PHONY: bench bench-drift
bench: venv ## side-by-side benchmark (pass-through / seed / ours, offline, 150 ms emulator latency) + drift run: BENCHMARKS.md
	$(BIN)/python -m bench
	$(BIN)/python -m bench.shipped_import
	$(BIN)/python -m bench.drift --write

.PHONY: bench-import
bench-import: venv python313 ## handler import from the built layer under Python 3.13 vs the naive set (its BENCHMARKS.md section)
	$(BIN)/python -m bench.shipped_import

bench-drift: venv ## tier 1 under ranking drift (shadow verification + calibration, in-process): its BENCHMARKS.md section
	$(BIN)/python -m bench.drift --write

.PHONY: openapi
openapi: venv ## regenerate the OpenAPI document served at /openapi.json (layers/.../musicboxd/api/openapi.json)
	$(BIN)/python -m musicboxd.api.openapi

.PHONY: bench-coldstart
bench-coldstart: venv ## cold-start figures only (Python 3.13, layer built for this machine): BENCHMARKS.md section
	$(BIN)/python -m bench.coldstart

.PHONY: emulator
emulator: venv ## offline Spotify + MusicBrainz emulator on 127.0.0.1:8790 (EMULATOR_PORT/EMULATOR_HOST), foreground
	EMULATOR_HOST=$${EMULATOR_HOST:-127.0.0.1} EMULATOR_PORT=$${EMULATOR_PORT:-8790} $(BIN)/python -m tools.emulator

# --- infrastructure (CDK v2, issue 5) -------------------------------------------------
STAGE     ?= dev
CDK_ARGS  ?=
export CDK_ARGS  # used as $$CDK_ARGS: the shell keeps the quotes of JSON context values
NPM_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
# Offline and deterministic: no IMDS probing, no notices/telemetry calls, env-agnostic stack.
CDK       := AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true npx --no-install cdk
CDK_CTX   := -c stage=$(STAGE) --no-notices $$CDK_ARGS

# The rehearsal's host-architecture layer switch (tests/deploy) never reaches a make recipe.
unexport MUSICBOXD_LAYER_PLATFORM
# Python 3.13 (the Lambda runtime's version) compiles the layer's bytecode: a named prerequisite
# of synth/deploy (infra/toolchain.py: $PYTHON313, python3.13 on PATH, or pyenv's newest 3.13).
.PHONY: node_modules synth cfn-lint diff deploy destroy bootstrap python313 layer lock
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-*; touch $@

node_modules: $(NPM_STAMP) ## install the pinned AWS CDK CLI (npm ci, once per lockfile)

python313: venv ## check for the Python 3.13 that builds the layer (PYTHON313=/path/to/python3.13 to choose one)
	@$(BIN)/python -m infra.toolchain

synth: venv node_modules python313 ## synthesize the stack into cdk.out (STAGE=dev|staging|prod), offline, no credentials
	$(CDK) synth $(CDK_CTX) --quiet

layer: venv python313 ## build the shared layer alone into build/layer (what synth bundles), print its size
	rm -rf build/layer && $(BIN)/python -m infra.constructs.layer build/layer

lock: venv ## re-resolve the hashed locks (layer: cp313 aarch64; dev env: this Python) with uv
	$(BIN)/python -m infra.lock

cfn-lint: synth ## cfn-lint the synthesized template(s) (config: .cfnlintrc.yaml)
	$(BIN)/cfn-lint

diff: venv node_modules python313 ## compare every stack with what is deployed (needs AWS credentials)
	$(CDK) diff $(CDK_CTX)

# --all: with `cdn` (prod) the app has two stacks, the CloudFront web ACL's in us-east-1 first.
deploy: venv node_modules python313 ## deploy the whole service, no prompts: make deploy STAGE=dev (needs AWS credentials)
	$(CDK) deploy $(CDK_CTX) --all --require-approval never

destroy: venv node_modules ## delete the stage's stacks, no prompts: make destroy STAGE=dev (retained data: README, Teardown)
	$(CDK) destroy $(CDK_CTX) --all --force

bootstrap: venv node_modules ## one-time CDK bootstrap of the target account/region (needs credentials)
	$(CDK) bootstrap $$CDK_ARGS
