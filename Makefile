# Smart Trading: `make run` serves the whole product on a bare machine; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Every package pinned with its hashes (tools/lock.py): two machines a month apart install the same code.
LOCK   := requirements-test.lock

.PHONY: run test lint format install migrate seed bench clean browser-deps soak vendor lock lock-check

# From the lock only: --require-hashes refuses anything unpinned or altered, --no-deps anything
# the lock does not name; the project itself is built from the lock's setuptools, not a download.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e '.[test]'
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

# After changing dependencies in pyproject.toml: recompile requirements.lock and requirements-test.lock
# (UPGRADE=1 takes the newest versions the ranges allow; otherwise the current pins are kept).
lock: install
	$(PY) tools/lock.py $(if $(UPGRADE),--upgrade)

# Fails when pyproject.toml and the locks disagree (run by `make test`, so CI).
lock-check: install
	$(PY) tools/lock.py --check

# Layering (import-linter contracts in pyproject.toml) and ruff, before the suite.
lint: install
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install lock-check browser-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The EMS property tests at 10,000 examples each; prints how many ran.
soak: install
	EMS_EXAMPLES=10000 $(PY) -m pytest -q -s -p no:cacheprovider tests/ems/test_algo_properties.py

bench: install
	$(PY) bench/marketdata.py
	$(PY) bench/sor.py
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then $(PY) bench/ems.py; \
	else echo "bench/ems.py skipped: it runs the production processes on PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)"; fi

# The charting library, from the npm registry into static/vendor (committed: pages work offline).
CHARTJS_VERSION ?= 4.6.1
vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null && tar xzf chart.js-*.tgz \
	  && cp package/dist/chart.umd.min.js package/LICENSE.md $(CURDIR)/static/vendor/chartjs/ && rm -rf $$tmp
	sed -i 's/Chart.js [0-9.]*/Chart.js $(CHARTJS_VERSION)/' static/vendor/chartjs/SOURCE.md

clean:
	rm -rf var/ .pytest_cache
