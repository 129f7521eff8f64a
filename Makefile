# CraneFlow — `make run` starts the demo, `make test` runs the whole suite, `make bench` measures.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_PASSWORD ?= CraneFlow-demo-2026
# Cranes of generated history for the statistics dashboard (generated once: a few seconds).
DEMO_CRANES ?= 2000
export DEMO_PASSWORD

.PHONY: setup run prod test bench browser pdf-font translations assets db clean

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

# Front-end assets from npm (package-lock.json pins them), copied under web/static/vendor: the pages
# load nothing from a CDN. npm ci runs again only when node_modules is missing or the lock changed.
VENDOR    := web/static/vendor/bpmn-js
BPMN_DIST := node_modules/bpmn-js/dist
VENDOR_FILES := $(VENDOR)/bpmn-navigated-viewer.production.min.js $(VENDOR)/diagram-js.css $(VENDOR)/bpmn-js.css
# The admin studio's modeler, and the icon font of its palette (font files, not the data: URI
# variant: the CSP allows fonts from our own origin only).
VENDOR_FILES += $(VENDOR)/bpmn-modeler.production.min.js $(VENDOR)/bpmn-font/css/bpmn.css \
	$(addprefix $(VENDOR)/bpmn-font/font/bpmn.,woff2 woff ttf eot svg)

# The statistics dashboard's charts.
ECHARTS := web/static/vendor/echarts/echarts.min.js
VENDOR_FILES += $(ECHARTS)

node_modules/.craneflow-installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is required for the front-end assets: apt-get install nodejs npm" >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

$(VENDOR)/%.js: node_modules/.craneflow-installed
	@mkdir -p $(@D)
	cp $(BPMN_DIST)/$(@F) $@

$(VENDOR)/%.css: node_modules/.craneflow-installed
	@mkdir -p $(@D)
	cp $(BPMN_DIST)/assets/$(@F) $@

$(VENDOR)/bpmn-font/%: node_modules/.craneflow-installed
	@mkdir -p $(@D)
	cp $(BPMN_DIST)/assets/bpmn-font/$* $@

$(ECHARTS): node_modules/.craneflow-installed
	@mkdir -p $(@D)
	cp node_modules/echarts/dist/echarts.min.js $@

assets: $(VENDOR_FILES)

# The TrueType Chinese font the PDFs embed: Debian's fonts-wqy-zenhei (deploy/services.sh).
pdf-font:
	@bash -c '. deploy/services.sh && ensure_pdf_font'

setup: $(STAMP) translations assets pdf-font

db: setup
	$(BIN)/flask --app web craneflow setup-db

run: db
	$(BIN)/flask --app web craneflow seed-demo
	$(BIN)/flask --app web craneflow generate-demo-data --cranes $(DEMO_CRANES) --seed 1 --if-empty
	@echo ""
	@echo "  CraneFlow is running at http://$(HOST):$(PORT)/"
	@echo "  demo accounts (password $(DEMO_PASSWORD)):"
	@echo "    owner_wuhan  installer_wuhan  contractor_wuhan  owner_yichang   (enterprises)"
	@echo "    reg_wuhan  reg_wuhan2  reg_yichang  reg_province   (regulators)"
	@echo "    admin_hubei  admin_wuhan   (account administrators)      admin   (BPMN studio)"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs"
	@echo ""
	$(BIN)/gunicorn --workers 1 --threads 8 --no-control-socket --bind $(HOST):$(PORT) --access-logfile - web.wsgi:app

# The production stack: PostgreSQL + Redis (installed from Debian packages if absent), gunicorn,
# a Celery worker and beat under honcho (deploy/Procfile). DEMO=0 skips the demo accounts.
prod: setup
	HOST=$(HOST) PORT=$(PORT) deploy/prod.sh

test: setup browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache node_modules web/static/vendor
