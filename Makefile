# LeadHub: `make run` serves it, `make test` proves it. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make
PORT ?= 5000
SIZE ?= 1000000
PYTEST_ARGS ?=

.PHONY: setup run demo test bench lint fmt clean translations browser

setup: $(STAMP)/python $(STAMP)/npm $(STAMP)/translations $(STAMP)/fonts
	$(BIN)/leadhub db upgrade

$(STAMP)/python: pyproject.toml
	@mkdir -p $(STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# DejaVu Sans (Turkish and Arabic) for the PDF reports (leadhub/pdf.py), from Debian.
$(STAMP)/fonts:
	@mkdir -p $(STAMP)
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; }
	@touch $@

$(STAMP)/npm: package.json package-lock.json scripts/vendor.sh
	@mkdir -p $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor.sh
	@touch $@

$(STAMP)/translations: $(STAMP)/python $(wildcard src/leadhub/translations/*/LC_MESSAGES/messages.po)
	$(BIN)/pybabel compile --use-fuzzy -d src/leadhub/translations -D messages -f >/dev/null
	@touch $@

run: setup
	PORT=$(PORT) $(BIN)/leadhub serve --port $(PORT)

# LeadHub with a simulated Meta sending leads (data in instance/demo/).
demo: setup
	$(BIN)/python -m leadhub.demo --port $(PORT)

# Debian's chromium for the browser tests; never a downloaded browser.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m benchmarks --size $(SIZE)

lint: $(STAMP)/python
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

fmt: $(STAMP)/python
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

translations: $(STAMP)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o src/leadhub/translations/messages.pot .
	$(BIN)/pybabel update -i src/leadhub/translations/messages.pot -d src/leadhub/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules $(STAMP) src/leadhub/static/vendor
