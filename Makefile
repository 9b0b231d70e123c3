# The two commands a new user needs: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit test-integration jvm jvm-test bench lint install stack-up stack-down clean

demo: install ## Start the stack and the job, stream generated payments, show live decisions
	$(BIN)/fraudguard demo

test: install jvm-test ## JUnit, then unit tests, doctests and integration tests on the real Kafka, Redis and PyFlink
	$(BIN)/pytest

test-unit: install jvm-test
	$(BIN)/pytest -m "not integration"

test-integration: install
	$(BIN)/pytest -m integration

bench: install ## Throughput through Kafka -> job -> Kafka (rules only, then the model), latency at four rates, then the kernel, state size, scoring, Python-path, panel, backtest, replay and loop benchmarks; writes bench/results/
	$(BIN)/python bench/throughput.py --scoring rules
	$(BIN)/python bench/throughput.py --scoring model
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/feature_kernel.py
	$(BIN)/python bench/state_memory.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/profile_features.py
	$(BIN)/python bench/panel.py
	$(BIN)/python bench/backtest.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/loop.py

lint: install
	$(BIN)/ruff check src jobs tests bench
	$(BIN)/mypy

install: $(STAMP) jvm

# The project's Java (jvm/), built again only when a pom or a source changed (fraudguard.jvm).
jvm: $(STAMP)
	$(BIN)/python -m fraudguard.jvm build

jvm-test: $(STAMP) ## The JUnit tests of jvm/, with their totals
	$(BIN)/python -m fraudguard.jvm test

# Python 3.11 and a virtualenv with exactly the versions in constraints.txt (apache-flink pins
# apache-beam, which pins numpy; the constraints keep River, numpy and cloudpickle compatible).
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "FraudGuard needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

stack-up: install
	$(BIN)/fraudguard stack up

stack-down:
	@if [ -x $(BIN)/fraudguard ]; then $(BIN)/fraudguard governor stop; $(BIN)/fraudguard outcomes stop; $(BIN)/fraudguard panel stop; $(BIN)/fraudguard job stop; $(BIN)/fraudguard stack down; fi

clean: stack-down
	rm -rf .fraudguard $(VENV)
