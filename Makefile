# The two README commands (`make demo`, `make test`) set everything up on first use:
# a virtual environment in .venv with the runtime, training and development extras.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint unit integration bench clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 14) else f"Tripwire needs Python 3.11 to 3.13, this is {v[0]}.{v[1]}")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[runtime,train,dev]'
	@touch $@

demo: $(STAMP)
	$(BIN)/tripwire demo

# Two pytest runs: moto keeps one in-memory backend per process, and the unit tests'
# in-process `mock_aws` resets it — it must never share a process with the local stack's
# moto server (integration, e2e). `loadgroup` keeps each story-telling module on one worker.
test: lint browser
	$(BIN)/python -m pytest -q -n 2 tests/unit
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests/integration tests/e2e tests/infra

# The browser tests (tests/e2e) drive Debian's chromium: install it when we can (root with
# apt-get); without it those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; }; } || \
	  echo "chromium is not installed: the browser tests (tests/e2e) will skip"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

bench: $(STAMP)
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) .tripwire .pytest_cache .mypy_cache .ruff_cache

# The CloudFormation template in cdk.out/, offline: no AWS credentials, no Docker (the
# layers are built by layers/build.py with pip's platform tags). `make package` prints
# each function's size with its layers and its handler's cold-import time.
.PHONY: synth layers package
layers: $(STAMP)
	$(BIN)/python layers/build.py

synth: layers
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python infra/app.py
	@echo "template: cdk.out/Tripwire.template.json"

package: $(STAMP)
	$(BIN)/python bench/package.py
