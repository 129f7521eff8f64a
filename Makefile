# CraneFlow — `make run` starts the demo, `make test` runs the whole suite, `make bench` measures.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_PASSWORD ?= CraneFlow-demo-2026
export DEMO_PASSWORD

.PHONY: setup run test bench browser translations db clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

translations: $(STAMP)
	$(BIN)/pybabel compile -d web/translations >/dev/null

# Debian's Chromium (Playwright drives it; no browser download) and a CJK font for screenshots.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  echo "installing Debian chromium and fonts-noto-cjk for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

setup: $(STAMP) translations

db: setup
	$(BIN)/flask --app web craneflow setup-db

run: db
	$(BIN)/flask --app web craneflow seed-demo
	@echo ""
	@echo "  CraneFlow is running at http://$(HOST):$(PORT)/"
	@echo "  demo accounts (password $(DEMO_PASSWORD)):"
	@echo "    owner_wuhan  installer_wuhan  contractor_wuhan  owner_yichang   (enterprises)"
	@echo "    reg_wuhan  reg_yichang  reg_province   (regulators)      admin"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs"
	@echo ""
	$(BIN)/gunicorn --workers 1 --threads 8 --no-control-socket --bind $(HOST):$(PORT) --access-logfile - web.wsgi:app

test: setup browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
