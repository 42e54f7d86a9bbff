# videodl: the commands a developer needs. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help deps venv binaries lint crds generate check-generated test test-unit test-e2e bench demo demo-clean cluster clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

deps: ## install the Debian packages the tests need (ffmpeg, promtool), when missing
	@bash hack/install-system-deps.sh

$(STAMP): pyproject.toml hack/devkit/pyproject.toml hack/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r hack/requirements-dev.txt
	@touch $@

venv: $(STAMP) ## create .venv with the package, the devkit and the development tools

binaries: ## build (once, cached outside the repo) the control plane, etcd, helm, kube-score and the kstatus check
	@bash hack/build-binaries.sh >/dev/null

lint: venv ## ruff, mypy --strict and the import layers (lint-imports)
	$(BIN)/ruff check operator hack/devkit tests
	$(BIN)/ruff format --check operator hack/devkit tests
	$(BIN)/mypy
	$(BIN)/lint-imports

crds: generate ## alias of generate

generate: venv ## regenerate the CRD, the chart's CRDs and docs/api.md from the models, and the chart README's values table
	$(BIN)/python -m videodl.api.generate
	$(BIN)/python -m videodl_devkit.chartdocs

check-generated: venv ## fail when a generated file is stale
	$(BIN)/python -m videodl.api.generate --check
	$(BIN)/python -m videodl_devkit.chartdocs --check

test: deps venv binaries lint check-generated ## the whole suite: lint, unit, integration and end-to-end tests
	$(BIN)/pytest tests --ignore=tests/benchmarks

test-unit: venv ## unit tests only (no cluster, no downloads)
	$(BIN)/pytest tests/unit

test-e2e: deps venv binaries ## end-to-end tests on the local control plane
	$(BIN)/pytest tests/e2e

bench: deps venv binaries ## benchmarks (figures, not pass/fail)
	$(BIN)/python tests/benchmarks/run.py

cluster: venv binaries ## run a local cluster in the foreground (Ctrl-C stops it)
	$(BIN)/python -m videodl_devkit --kubeconfig-link .demo/kubeconfig

clean: ## remove the virtualenv and caches inside the repo (the binary cache stays)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

demo: deps venv binaries ## local cluster + chart + real downloads, with live progress
	$(BIN)/python -m videodl_devkit.demo --state-dir .demo

demo-clean: ## remove what the demo left (.demo: cluster state, downloaded files, media)
	rm -rf .demo
