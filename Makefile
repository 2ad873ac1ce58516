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

.PHONY: help venv test lint run
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

.PHONY: emulator
emulator: venv ## offline Spotify + MusicBrainz emulator on 127.0.0.1:8790 (EMULATOR_PORT/EMULATOR_HOST), foreground
	EMULATOR_HOST=$${EMULATOR_HOST:-127.0.0.1} EMULATOR_PORT=$${EMULATOR_PORT:-8790} $(BIN)/python -m tools.emulator
