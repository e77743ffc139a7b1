# One obvious way to run each thing. Every target creates the virtualenv on first use, so on a
# fresh machine with only Python 3.11, `make up` and `make test` need nothing else.

PYTHON ?= python3
# Test files run on this many processes (pytest-xdist, whole files per process so module
# fixtures stay whole); 1 runs them one after the other.
TEST_PROCESSES ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: venv up down status test test-fast lint chaos notebooks clean bench site site-build phase-tables

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

## venv: create or update .venv only (`./fcl` runs this first when .venv is missing or stale)
venv: $(STAMP)
	@:

## up: start PostgreSQL, Redis, the broker and the API (latest phase); Ctrl-C stops everything
up: $(STAMP)
	$(BIN)/fcl up $(if $(PHASE),--phase $(PHASE))

## down: stop everything `make up` started, also after a crash
down: $(STAMP)
	$(BIN)/fcl down

status: $(STAMP)
	$(BIN)/fcl status

## test: lint, then every test: unit, integration, e2e, notebooks (starts its own servers)
test: $(STAMP)
	$(BIN)/ruff check shared phases tests labs site
	$(BIN)/pytest --nbval-lax -p no:cacheprovider -n $(TEST_PROCESSES) --dist loadfile

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit -q -p no:cacheprovider

## notebooks: run every notebook top to bottom on the embedded stack (as CI does)
notebooks: $(STAMP)
	$(BIN)/pytest --nbval-lax -p no:cacheprovider phases notebooks

## chaos: 10,000 transfers under every fault (API kill, crash points, slow transfers, backend
## terminations, PostgreSQL restart, network faults when the drill proxy exists, and the faults
## the phases declare: phase 2's relay kill, 60 s broker stop, consumer kill, poison); exit 1 on any
## violation. Figures in results/. The CI-sized run is tests/chaos (part of `make test`).
chaos: $(STAMP)
	$(BIN)/fcl chaos --transfers $(or $(TRANSFERS),10000) --workers 16 --faults all \
		$(if $(PHASE),--phase $(PHASE))

lint: $(STAMP)
	$(BIN)/ruff check shared phases tests labs site
	$(BIN)/mypy

## site: generate the site and serve it on http://127.0.0.1:8001 (offline; rerun after edits)
site: $(STAMP)
	$(BIN)/python site/build.py --serve --addr 127.0.0.1:8001

## site-build: generate the site, then `mkdocs build --strict` into site/build/
site-build: $(STAMP)
	$(BIN)/python site/build.py --generate-only
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -f site/mkdocs.generated.yml

## phase-tables: regenerate the "what this phase adds" table of every phase README
phase-tables: $(STAMP)
	$(BIN)/python -m phases.readme_tables

clean:
	rm -rf $(VENV) .lab .pytest_cache .mypy_cache .ruff_cache
	rm -rf site/docs site/build site/mkdocs.generated.yml

## bench: transfers/s vs pgbench on the same PostgreSQL (quick profile; PROFILE=full|smoke)
bench: $(STAMP)
	$(BIN)/fcl bench --profile $(or $(PROFILE),quick) $(if $(PHASE),--phase $(PHASE))
