# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Each creates .venv from requirements.txt when it is missing or out of date.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TF_ENABLE_ONEDNN_OPTS := 0
export TF_CPP_MIN_LOG_LEVEL := 3
export MPLBACKEND := Agg

.PHONY: demo test bench clean slides-assets .sandbox .browser .npm .postgres

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# System packages, installed as root on Debian/Ubuntu when missing: bubblewrap sandboxes the
# kernels that run student code (without it grading still works, unsandboxed); chromium is the
# browser the browser tests drive (without it they are skipped, with the reason printed);
# postgresql gives the initdb and pg_ctl with which the tests start a PostgreSQL server of
# their own (none is started here; without them the PostgreSQL tests are skipped, with why).
apt_install = command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  export DEBIAN_FRONTEND=noninteractive && \
	  (apt-get install -y -qq $(1) || (apt-get update -qq && apt-get install -y -qq $(1)))
SANDBOX := $(shell command -v bwrap || echo .sandbox)
.sandbox:
	-$(call apt_install,bubblewrap)
BROWSER := $(shell test -x /usr/bin/chromium && echo /usr/bin/chromium || echo .browser)
.browser:
	-$(call apt_install,chromium)
POSTGRES := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb) \
	      .postgres)
.postgres:
	-$(call apt_install,postgresql)

# reveal.js and MathJax, which the slides (`nncourse slides`) load from files beside each deck,
# never from a CDN: installed from the committed lock file. npm itself is installed as root on
# Debian/Ubuntu when missing; elsewhere this stops with what to install.
WEB := nncourse/web
SLIDE_ASSETS := $(WEB)/node_modules/.installed
NPM := $(shell command -v npm || echo .npm)
.npm:
	-$(call apt_install,npm)
$(SLIDE_ASSETS): $(WEB)/package.json $(WEB)/package-lock.json | $(NPM)
	@command -v npm >/dev/null || { echo "npm is missing: the slides need reveal.js and" \
	  "MathJax from npm (Debian/Ubuntu: apt-get install npm)" >&2; exit 1; }
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $@
slides-assets: $(SLIDE_ASSETS)

demo: $(BIN)/.installed $(SANDBOX)
	$(BIN)/nncourse release
	$(BIN)/nncourse grade examples/class --out build/grading

# The suite's own matplotlib cache, not the one in ~/.cache that every matplotlib of the user
# shares: the CI of db631a9 found that one without matplotlib's own fonts (cause not found),
# and five notebooks printed findfont warnings. Grading kernels get a HOME of their own.
test: export MPLCONFIGDIR := $(CURDIR)/build/matplotlib
test: $(BIN)/.installed $(SANDBOX) $(BROWSER) $(POSTGRES) $(SLIDE_ASSETS)
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(BIN)/.installed $(SANDBOX)
	$(BIN)/python benchmarks/training.py --out benchmarks/results
	$(BIN)/python benchmarks/notebooks.py --out benchmarks/results
	$(BIN)/python benchmarks/grading.py --out benchmarks/results
	$(BIN)/python benchmarks/cluster.py --out benchmarks/results

clean:
	rm -rf $(VENV) build .pytest_cache
