# Heartline — `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## build .venv from the pinned requirements (fast when nothing changed)

run: install ## the whole system on this machine: embedded broker, services, demo calls
	$(BIN)/heartline run

test: install ## run the test suite (real broker, real processes, headless Chromium)
	$(BIN)/pytest -q

eval: install ## analysis quality on the labelled evaluation set
	$(BIN)/python -m services.analyzer.eval

bench: install ## end-to-end benchmark: latency and throughput vs concurrent calls
	$(BIN)/python -m bench.e2e

bench-analysis: install ## analyzer speed vs raw snownlp
	$(BIN)/python bench/analysis_bench.py

up: ## production-like stack on Apache Kafka (needs Docker)
	docker compose up -d --build

down: ## stop the docker compose stack
	docker compose down

clean: ## remove local data and logs
	rm -rf .heartline

.PHONY: help install run test eval bench bench-analysis up down clean
