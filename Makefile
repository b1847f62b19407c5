# ewallet — the two commands of the quick start, and a few more.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint typecheck unit bench-ledger bench-auth worker clean

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

## serve: set up, migrate the embedded SQLite database and run the wallet on :8000
serve: $(STAMP) fonts
	$(BIN)/ewallet serve

## test: set up, lint, type-check and run the whole suite
test: lint fonts
	$(BIN)/python -m pytest

## lint: ruff and mypy (strict)
lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

## worker: deliver outbox events
worker: $(STAMP)
	$(BIN)/ewallet worker

## bench-ledger: ledger throughput and history latency (JSON)
bench-ledger: $(STAMP)
	@$(BIN)/python bench/ledger.py

## bench-auth: sign-ins and payment-password checks per second, argon2 cost curve (JSON)
bench-auth: $(STAMP)
	@$(BIN)/python bench/auth.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
