# Smart Trading: `make run` serves the whole product on a bare machine; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install migrate seed bench clean browser-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	PORT=$(PORT) $(PY) manage.py serve --port $(PORT)

# Debian's Chromium for the browser tests (Playwright's own browser download is unavailable).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will skip outside CI"

test: install browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/marketdata.py
	$(PY) bench/sor.py

clean:
	rm -rf var/ .pytest_cache
