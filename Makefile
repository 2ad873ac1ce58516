# Musicboxd album catalog: every developer and CI entry point.
# Each target installs what it needs (idempotently) into .venv / node_modules.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
REQS    := requirements-dev.txt layers/common/requirements.txt
STAMP   := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha1sum | cut -c1-12)
export PYTHONPATH := $(CURDIR)/layers/common/python:$(CURDIR)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv test lint run build-index bench-tier1
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv with pinned dependencies

test: venv ## run every test suite (unit, integration, infra, e2e)
	$(BIN)/pytest

lint: venv ## ruff
	$(BIN)/ruff check .

run: venv ## whole stack on 127.0.0.1: moto (DynamoDB+SSM), Spotify emulator, API on :3000 (API_PORT)
	$(BIN)/python -m tools.localstack

build-index: venv ## rebuild the tier-1 search index from the popular tier of `make run`'s stack
	$(BIN)/python -m tools.build_index

bench-tier1: venv ## tier-1 figures: index size/load for 50k albums; share + top-5 agreement vs the emulator
	$(BIN)/python -m tools.index_bench
	$(BIN)/python -m tools.tier1_bench

.PHONY: bench
bench: venv ## side-by-side benchmark (pass-through / seed / ours, offline, 150 ms emulator latency): BENCHMARKS.md
	$(BIN)/python -m bench

.PHONY: emulator
emulator: venv ## offline Spotify + MusicBrainz emulator on 127.0.0.1:8790 (EMULATOR_PORT/EMULATOR_HOST), foreground
	EMULATOR_HOST=$${EMULATOR_HOST:-127.0.0.1} EMULATOR_PORT=$${EMULATOR_PORT:-8790} $(BIN)/python -m tools.emulator
