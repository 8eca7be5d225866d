# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PG_SERVER_URL ?= postgresql://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run serve test test-sqlite test-postgres screenshots openapi bench bench-console clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

## make run: install, migrate the SQLite database, seed demo data when empty, serve on 127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty --ideas 200 --pending 10 --reports 2000
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: install, then the whole suite on SQLite and again on PostgreSQL (fresh database)
test: install test-sqlite test-postgres

test-sqlite: install
	@echo "== test suite on SQLite =="
	$(PY) -m pytest -q -p no:cacheprovider

test-postgres: install
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_SERVER_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== test suite on PostgreSQL ($(PG_SERVER_URL), fresh database) =="; \
		TEST_DATABASE_URL=$(PG_SERVER_URL) $(PY) -m pytest -q -p no:cacheprovider; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
		echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but not reachable at $(PG_SERVER_URL)"; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(PG_SERVER_URL): the PostgreSQL run was SKIPPED (set REQUIRE_POSTGRES=1 to fail instead)"; \
	fi

## make screenshots: the console's main pages in chromium to docs/console/*.png (the README shows them)
screenshots: install
	CONSOLE_SCREENSHOTS=1 $(PY) -m pytest -q -p no:cacheprovider tests/console/test_console_browser.py -m browser

## make openapi: export the spec from the code to openapi/openapi.json
openapi: install
	APP_ENV=development DATABASE_URL=sqlite:// $(FLASK) openapi write --format json openapi/openapi.json

## make bench: the tally engine against pabutools, FCM gateway throughput, two parallel drains, the photo pipeline, then the load benchmarks; writes bench/RESULTS.md
bench: install
	$(PY) bench/tally.py --tally-cmd "$(FLASK) budgets tally" > bench/TALLY.md.new && mv bench/TALLY.md.new bench/TALLY.md
	$(PY) bench/photos.py
	$(PY) bench/push_fcm.py --append-results
	$(PY) bench/drain.py --database sqlite
	$(PY) bench/drain.py --database postgres
	$(PY) bench/run.py

## make bench-console: every console page's server time at make bench's demo sizes (SQLite, then PostgreSQL); writes bench/CONSOLE.md
bench-console: install
	$(PY) bench/console.py --postgres $(PG_SERVER_URL)

clean:
	rm -rf $(VENV) instance .pytest_cache
