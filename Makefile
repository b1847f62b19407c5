# ewallet — the two commands of the quick start, and a few more.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve demo test lint typecheck unit bench-ledger bench-auth bench-api bench-risk bench-risk-quality bench-web bench-settlement bench-watchlist chaos worker clean vendor screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# PDF statements embed a Chinese TrueType font from the system (never from the repository).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CJK_FONT := fonts-wqy-zenhei
.PHONY: fonts
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -qi "wqy" || { \
		echo "installing $(CJK_FONT) (Chinese text in PDF statements)"; \
		$(SUDO) apt-get install -y --no-install-recommends $(CJK_FONT) fontconfig \
		|| { $(SUDO) apt-get update && \
		     $(SUDO) apt-get install -y --no-install-recommends $(CJK_FONT) fontconfig; }; }

# Browser tests drive Debian's Chromium with Playwright (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium
.PHONY: browser
browser:
	@[ -x $(CHROMIUM) ] || { \
		echo "installing chromium (browser tests of the checkout page)"; \
		$(SUDO) apt-get install -y --no-install-recommends chromium \
		|| { $(SUDO) apt-get update && \
		     $(SUDO) apt-get install -y --no-install-recommends chromium; }; }

## serve: set up, migrate the embedded SQLite database and run the wallet on :8000
serve: $(STAMP) fonts
	$(BIN)/ewallet serve

## demo: like serve, with demo users, merchants and four weeks of history loaded first
demo: $(STAMP) fonts
	$(BIN)/ewallet serve --demo

## test: set up, lint, type-check and run the whole suite, one pytest worker per core (at most
## PYTEST_WORKERS, 4 by default), each test file on one worker (module-scoped servers and browsers
## stay shared); each worker has its own PostgreSQL database and Redis key prefix
PYTEST_WORKERS ?= 4
test: lint fonts browser
	$(BIN)/python -m pytest -n auto --maxprocesses=$(PYTEST_WORKERS) --dist loadfile

## lint: ruff, mypy (strict) and the import contracts (pyproject.toml [tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations tools
	$(BIN)/ruff format --check src tests bench migrations tools
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

## worker: deliver outbox events
worker: $(STAMP)
	$(BIN)/ewallet worker

## bench-ledger: ledger throughput and history latency (JSON)
bench-ledger: $(STAMP)
	@$(BIN)/python bench/ledger.py

## bench-settlement: a day of 1,000 merchants, 100,000 payments settled and paid, and its rerun (JSON)
bench-settlement: $(STAMP)
	@$(BIN)/python -m bench.settlement

## bench-watchlist: load 100,000 watch-list entries, then screen names against them (JSON)
bench-watchlist: $(STAMP)
	@$(BIN)/python -m bench.watchlist

## bench-auth: sign-ins and payment-password checks per second, argon2 cost curve (JSON)
bench-auth: $(STAMP)
	@$(BIN)/python bench/auth.py

## bench-api: charges and transfers per second over HTTP (uvicorn, 2 workers), pgbench ratio (JSON)
bench-api: $(STAMP)
	@$(BIN)/python -m bench.api

## bench-risk: charges/s with the default risk rules on vs off (alternated), the decision's p99 (JSON)
bench-risk: $(STAMP)
	@$(BIN)/python -m bench.risk

## bench-risk-quality: a synthetic month with labelled fraud replayed through the risk rules:
## recall per pattern, legitimate movements inconvenienced, default vs first-draft rules (JSON)
bench-risk-quality: $(STAMP)
	@$(BIN)/python -m bench.risk_quality

## bench-web: render time of the wallet's home, history and transfer-confirm pages, then of the
## console's ticket queue and customer view, against /healthz (JSON, one document each)
bench-web: $(STAMP)
	@$(BIN)/python -m bench.web
	@$(BIN)/python -m bench.console

## chaos: 10,000 retried money operations under kill -9 and a PostgreSQL restart, then checks (JSON)
chaos: $(STAMP)
	@$(BIN)/python -m bench.chaos

## screenshots: the wallet's main pages at phone size with the demo data, into docs/screenshots/
screenshots: $(STAMP) fonts browser
	$(BIN)/python -m tools.screenshots --out docs/screenshots

## vendor: refresh the vendored htmx (pinned version) from the npm registry
HTMX_VERSION := 2.0.11
vendor:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && \
		tar xzf htmx.org-$(HTMX_VERSION).tgz && \
		cp package/dist/htmx.min.js $(CURDIR)/src/ewallet/web/static/vendor/htmx.min.js && \
		cp package/LICENSE $(CURDIR)/src/ewallet/web/static/vendor/htmx.LICENSE && \
		rm -rf $$tmp && echo "htmx $(HTMX_VERSION) vendored"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
