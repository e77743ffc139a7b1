# One obvious way to run each thing. Every target creates the virtualenv on first use, so on a
# fresh machine with only Python 3.11, `make up` and `make test` need nothing else.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: up down status test test-fast lint chaos notebooks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

## up: start PostgreSQL, Redis, the broker and the API (latest phase); Ctrl-C stops everything
up: $(STAMP)
	$(BIN)/fincore up $(if $(PHASE),--phase $(PHASE))

## down: stop everything `make up` started, also after a crash
down: $(STAMP)
	$(BIN)/fincore down

status: $(STAMP)
	$(BIN)/fincore status

## test: lint, then every test: unit, integration, e2e, notebooks (starts its own servers)
test: $(STAMP)
	$(BIN)/ruff check shared phases tests
	$(BIN)/pytest --nbval-lax -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit -q -p no:cacheprovider

## chaos: 10,000 transfers under every fault (API kill, crash points, slow transfers, backend
## terminations, PostgreSQL restart, network faults when the drill proxy exists); exit 1 on any
## violation. Figures in results/. The CI-sized run is tests/chaos (part of `make test`).
chaos: $(STAMP)
	$(BIN)/fincore chaos --transfers $(or $(TRANSFERS),10000) --workers 16 --faults all \
		$(if $(PHASE),--phase $(PHASE))

lint: $(STAMP)
	$(BIN)/ruff check shared phases tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .lab .pytest_cache .mypy_cache .ruff_cache
