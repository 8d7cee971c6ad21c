# UrbanGrid: `make demo` builds and serves the demo city; `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SEED ?= 2024
STAMP := $(VENV)/.installed

PROVINCE_PORT ?= 8001

.PHONY: demo demo-province test install system-deps serve messages clean bench-locate bench-demo bench-install bench-open311 bench-load bench-loop bench-exchange bench-province screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# chromium, fonts-wqy-microhei, postgresql-client: installed when missing (as root), else one line saying how.
system-deps:
	@scripts/system-deps

demo: install
	$(BIN)/urbangrid migrate --noinput
	$(BIN)/urbangrid demo --seed $(SEED)
	$(BIN)/urbangrid tallies build
	@echo "Serving the demo city on http://127.0.0.1:$(PORT)/ with gunicorn (logins in var/demo/logins.json)"
	URBANGRID_DEMO=1 URBANGRID_PUBLIC_BASE_URL=$${URBANGRID_PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} \
	  $(BIN)/urbangrid serve --bind 127.0.0.1:$(PORT) --workers 3

# A province of three cities (the demo city and two generated ones) beside its province node, the exchange run
# between them (scripts/demo_province.py; everything under var/province-demo/, rebuilt on each run).
demo-province: install
	$(BIN)/python scripts/demo_province.py --port $(PORT) --province-port $(PROVINCE_PORT) --seed $(SEED)

# The project's bytecode compiled first: a machine that sets PYTHONDONTWRITEBYTECODE (as the development machine does) would
# otherwise recompile every module in each of the hundreds of processes the suite starts.
test: system-deps install
	$(BIN)/python -m compileall -q src tests > /dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

messages: install
	cd src/urbangrid && ../../$(BIN)/urbangrid makemessages -l en --no-obsolete && ../../$(BIN)/urbangrid makemessages -d djangojs -l en --no-obsolete; \
	../../$(BIN)/urbangrid compilemessages

# Every role's main screens in both languages at 1366×768 and 360×740, from a temporary demo city, into var/screenshots/.
screenshots: install
	$(BIN)/python scripts/screenshots.py $(SCREENSHOT_ARGS)

bench-locate: install
	$(BIN)/python bench/bench_locate.py

bench-demo: install
	$(BIN)/python bench/bench_demo.py

# The benchmarks' extra (Locust, DuckDB) beside the test one; BENCH_ARGS passes options (e.g. --db postgres).
bench-install: install
	$(BIN)/pip install -q -e ".[test,bench]"

bench-open311: install
	$(BIN)/python bench/bench_open311.py $(BENCH_ARGS)

bench-load: bench-install
	$(BIN)/python bench/bench_load.py $(BENCH_ARGS)

bench-loop: install
	$(BIN)/python bench/bench_loop.py $(BENCH_ARGS)

# PostgreSQL only (127.0.0.1:5432): one city into the province over HTTP; the province's pages with 20 cities' data.
bench-exchange: install
	$(BIN)/python bench/bench_exchange.py $(BENCH_ARGS)

bench-province: install
	$(BIN)/python bench/bench_province.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/urbangrid.sqlite3* var/static
