# `make run`: set everything up and serve the demo on SQLite (jobs in-process).
# `make run CONTENT_DIR=… COLLECTIVITES_DIR=…`: the same on other content (the official référentiels)
# and with the directory of collectivités imported; PORT=… to serve on another port.
# `make test`: set everything up and run the whole suite on SQLite, then on PostgreSQL + Redis.
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_APP=wsgi $(BIN)/flask
INSTALLED := $(VENV)/.installed
CONTENT_DIR ?=
COLLECTIVITES_DIR ?=
PORT ?= 5000
AXE := node_modules/axe-core/axe.min.js

.PHONY: setup run test test-sqlite test-postgres services chromium axe bench

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $(INSTALLED)

setup: $(INSTALLED)

# axe-core (npm, version pinned by package-lock.json) for the browser accessibility test.
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(AXE)

axe: $(AXE)

# CONTENT_DIR reaches the app through the environment too (the /preview page reads it).
run: setup
	$(FLASK) db upgrade
	$(FLASK) content load $(CONTENT_DIR)
	$(if $(COLLECTIVITES_DIR),$(FLASK) collectivites import $(COLLECTIVITES_DIR))
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

services:
	scripts/ensure-services.sh

chromium:
	scripts/ensure-chromium.sh

test-sqlite: setup chromium axe
	$(BIN)/pytest -q

test-postgres: setup chromium axe services
	TEST_BACKEND=postgres $(BIN)/pytest -q

test: test-sqlite test-postgres

bench: setup services
	$(FLASK) bench content
	$(FLASK) bench scoring
