# Two commands on a fresh machine:
#   make serve   install seedbed with its embedded model and run the server
#                (SQLite in ~/.seedbed, the local model for generation, no other set-up)
#   make test    install seedbed with its test tools and run the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
# llama-cpp-python compiles from source; the multimodal part is not needed and slow to build.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF

.PHONY: serve test lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[local]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed-serve

serve: $(VENV)/.installed-serve
	$(BIN)/seedbed serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Every measurement of bench/README.md, one after another (about 45 minutes; the first run
# also installs the peer tools into bench/.venvs). Run on an otherwise idle machine.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/generation.py --local
	$(BIN)/python bench/generation_peers.py
	$(BIN)/python bench/phoenix_peer.py
	$(BIN)/python bench/datasets.py
	$(BIN)/python bench/experiments.py
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/memory.py
