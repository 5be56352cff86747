# The two commands of the README: `make run` (the embedded default end to end) and `make test`.
# Both create the virtual environment .venv on first use (CPU torch pinned first, then the project).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup
run: $(VENV)/.installed
	$(BIN)/snakemake --cores all

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The pinned CPU wheel first: an unpinned resolve would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@
