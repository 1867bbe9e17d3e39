# Two commands for a new machine: `make run` and `make test`.
# Everything they need is installed on first use into .venv/ and static/vendor/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
HTMX_SHA256 := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX := static/vendor/htmx.min.js
DB := instance/portal.sqlite3
EXAMPLES := examples/portal-carrier-example examples/portal-coupon-example
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
MAIL_PORT ?= 8025

.PHONY: run test install htmx db reset-demo serve bench load clean

# The web server and, beside it, the background worker (Huey: carrier polling,
# demo parcels moving along, notification e-mails) and a development mail catcher
# that writes every e-mail the portal sends to instance/mail.log (unless PORTAL_SMTP_URL
# points elsewhere). Ctrl-C stops all three.
run: install $(DB)
	@$(FLASK) init-db >/dev/null
	@$(FLASK) demo-logins
	@echo "Serving the portal on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@echo "E-mails it sends are caught on smtp://127.0.0.1:$(MAIL_PORT): read them in instance/mail.log"
	@export PORTAL_SMTP_URL="$${PORTAL_SMTP_URL:-smtp://127.0.0.1:$(MAIL_PORT)}" \
	    PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}"; \
	  $(FLASK) mail-catcher --port $(MAIL_PORT) --log instance/mail.log \
	    >instance/mail-catcher.log 2>&1 & catcher=$$!; \
	  $(FLASK) worker >instance/worker.log 2>&1 & worker=$$!; \
	  trap 'kill $$worker $$catcher 2>/dev/null; wait $$worker $$catcher 2>/dev/null; exit 0' \
	    INT TERM EXIT; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# The import contracts (pyproject.toml, [tool.importlinter]), the portal's tests, then each
# example plugin's own tests after installing it (as a plugin author would: pip install,
# then pytest with the portal's fixtures).
test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)
	set -e; for example in $(EXAMPLES); do \
	  $(BIN)/python -m pip install --quiet ./$$example; \
	  (cd $$example && $(CURDIR)/$(BIN)/pytest $(PYTEST_ARGS)); \
	done

install: $(VENV)/.installed $(HTMX)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# htmx comes from its npm package at a pinned version, checked against its hash.
$(HTMX):
	@mkdir -p $(dir $@)
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null \
	  && tar -xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js \
	  && echo "$(HTMX_SHA256)  package/dist/htmx.min.js" | sha256sum --check --quiet \
	  && cp package/dist/htmx.min.js $(CURDIR)/$@ && rm -rf $$tmp
	@echo "htmx $(HTMX_VERSION) -> $@"

$(DB): | $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) seed-demo

db: install $(DB)

# Start the demo over: a fresh database with new demo data.
reset-demo: install
	$(FLASK) seed-demo --reset

# Production-style serving with gunicorn (set PORTAL_DATABASE_URL etc. first).
serve: install
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) wsgi:app

# Every benchmark, each figure printed beside its budget (bench/README.md): seeding
# (its database is kept for the pages when there is none yet), the buyer's pages with
# the bare view in the same run, Order Management, carrier webhooks.
# BENCH_DATABASE_URL=postgresql://... (an empty database, filled by COPY from the SQLite
# one the first time) measures the same pages on PostgreSQL too.
BENCH_ORDERS ?= 1000000
bench: install
	$(BIN)/python bench/seed.py --orders $(BENCH_ORDERS) $(if $(wildcard instance/bench/orders-$(BENCH_ORDERS).sqlite3),,--keep)
	$(BIN)/python bench/buyer_pages.py --orders $(BENCH_ORDERS)
	$(BIN)/python bench/seller_pages.py --orders $(BENCH_ORDERS)
	$(if $(BENCH_DATABASE_URL),$(BIN)/python bench/buyer_pages.py --orders $(BENCH_ORDERS) --database $(BENCH_DATABASE_URL))
	$(if $(BENCH_DATABASE_URL),$(BIN)/python bench/seller_pages.py --orders $(BENCH_ORDERS) --database $(BENCH_DATABASE_URL))
	$(BIN)/python bench/webhooks.py

# A load test: gunicorn and the worker on a demo database, Locust headless for a fixed
# time (bench/load.py). LOAD_DATABASE_URL=postgresql://... runs it on PostgreSQL.
LOAD_ARGS ?=
load: install
	@$(BIN)/python -c "import locust" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,load]'
	$(BIN)/python bench/load.py $(if $(LOAD_DATABASE_URL),--database $(LOAD_DATABASE_URL)) $(LOAD_ARGS)

clean:
	rm -rf $(VENV) static/vendor
