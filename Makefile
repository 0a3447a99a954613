# Two entry points: `make run` (portal + worker with demo data) and `make test`.
# Both set everything up on a fresh machine; see README.md.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# What gets installed is the lock files: every package of the tree pinned and
# hashed (`make lock` compiles them from requirements*.txt, the lists people edit).
PIP_INSTALL := $(PIP) install --quiet --require-hashes
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-options

.PHONY: run test lint bench venv deps deps-dev messages lock clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: $(VENV)/bin/python requirements.lock
	$(PIP_INSTALL) -r requirements.lock
	touch $@

$(VENV)/.deps-dev: $(VENV)/.deps requirements-dev.lock
	$(PIP_INSTALL) -r requirements-dev.lock
	$(PIP) check
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

# After editing requirements.txt or requirements-dev.txt. To take a newer release of an
# indirect dependency: `make lock LOCK_ARGS="--upgrade-package NAME"`.
lock: deps-dev
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements.lock requirements.txt
	$(PIP_COMPILE) $(LOCK_ARGS) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

lint: deps-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var staticfiles
