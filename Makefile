# Two entry points: `make run` (portal + worker with demo data) and `make test`.
# Both set everything up on a fresh machine; see README.md.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# XStatic-Bootstrap builds from an sdist whose setup imports pkg_resources,
# which setuptools >= 82 no longer ships: pin the build environment.
PIP_INSTALL := $(PIP) install --quiet --build-constraint build-constraints.txt

.PHONY: run test lint bench venv deps deps-dev messages clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: $(VENV)/bin/python requirements.txt build-constraints.txt
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.deps-dev: $(VENV)/.deps requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev

messages: deps
	DEBUG=1 $(PY) manage.py compilemessages --ignore=$(VENV) -v0

run: deps messages
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --no-input -v0
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 scripts/run-dev.sh

test: deps-dev
	scripts/test.sh

bench: deps-dev messages
	scripts/bench.sh

lint: deps-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var staticfiles
