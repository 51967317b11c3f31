# One command per job; each sets up what it needs first (a venv in .venv, the project, Chromium).
#   make serve       build and serve the site at http://127.0.0.1:8000/labml_resnet/ (site_url's path)
#   make test        run every test (CPU only; browser tests use Debian's Chromium)
#   make experiment  train ResNet-20 on CIFAR-10 (downloads it into ./data on first use);
#                    DATA=folder (with cifar-10-batches-py/ in it), ARGS="--preset quick ..." for more flags
#   make gpu-check DATA=folder   the checks that need a GPU, in about ten minutes (benchmarks/gpu_check.py)
#   make bench-site  how long the site takes to build: cold, warm, and an edit under `mkdocs serve`
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: serve test experiment build chromium clean gpu-check bench-site

# Installed again when the project's requirements or CI's torch pins change (.ci/run sets
# PIP_CONSTRAINT to the pins; an installed torch that satisfies them is kept).
$(STAMP): pyproject.toml .ci/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# labml-nn is the peer the tests compare with; its own requirements (torchtext) pin an old torch, and
	# labml_nn.resnet needs only torch, so it comes without them.
	$(PY) -m pip install -q --no-deps labml-nn
	touch $(STAMP)

# Headless Chromium for the browser tests: Debian's package (Playwright's own download needs a network we may not have),
# and Noto CJK so that the Japanese and Chinese pages are measured and screenshotted with real glyphs, not boxes.
BROWSER_PACKAGES := chromium fonts-noto-cjk
chromium:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null); } || \
	  command -v chromium >/dev/null || \
	  echo "note: no chromium on PATH; browser tests will be skipped (set CHROMIUM=/path/to/chrome to use another)"

serve: $(STAMP)
	$(VENV)/bin/mkdocs serve

build: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# Two workers (pytest-xdist): one waits on Chromium or a child process while the other computes.
test: $(STAMP) chromium
	$(PY) -m pytest -n 2

bench-site: $(STAMP)
	$(PY) benchmarks/site_build.py

experiment: $(STAMP)
	$(PY) experiment.py --data-dir $(DATA) $(ARGS)

# No venv here: a GPU machine may have torch but no network to install anything. DATA is a
# folder with cifar-10-batches-py/ in it.
DATA ?= data
gpu-check:
	$(PYTHON) benchmarks/gpu_check.py --data-dir $(DATA)

clean:
	rm -rf $(VENV) site .cache .pytest_cache .hypothesis
