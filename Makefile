# The two commands of the README: `make run` (the embedded default end to end) and `make test`.
# Both create the virtual environment .venv on first use: torch first (the CPU build on Linux,
# see TORCH_INDEX), then the project with its test and lint tools. No system packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# On Linux, PyPI's torch wheel is the multi-GB CUDA build: take the CPU build from the PyTorch
# index instead. GPU users pick their CUDA build, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cu128;
# TORCH_INDEX= (empty) uses plain PyPI. It is an extra index, asked for torch alone (--no-deps;
# torch's own dependencies come with the project from the usual indexes): where it cannot be
# reached (an offline mirror), pip warns, retries twice and installs from the other indexes (on
# Linux, PyPI's CUDA build); setup ends by printing which build came.
ifeq ($(shell uname -s),Linux)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
else
TORCH_INDEX ?=
endif
TORCH := torch==2.13.0

.PHONY: run test test-fast lint setup
# Recovers from an interrupted run: unlocks only when no Snakemake process holds the lock, then
# `snakemake --rerun-incomplete` (docs/operations.md, "When a run is interrupted").
run: $(VENV)/.installed
	$(BIN)/python -m polyalign.workflow.recovery --cores all

# Full lane: every test, including the micro end-to-end workflow run twice (clean, and killed at
# three points then resumed): under half an hour on 2 cores (17 min 14 s, 1,270 tests, on the
# idle 2-core development machine, 2026-12-07, a fresh clone of 0cf8e79).
# One pytest worker per core (pytest-xdist); tests that share an expensive fixture stay on one
# worker (tests/conftest.py, `xdist_group_of`).
test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

# Fast lane: unit tests only (tests marked slow are skipped), a minute or two (75 s on 2 cores, 2026-12-07).
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not slow" -n auto --dist loadgroup

# Lint and format checks (configuration in pyproject.toml) and the import layers of src/polyalign
# (tools/import_layers.py: no import cycle, no stage importing upward); `make lint` changes nothing.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check workflow
	$(BIN)/python tools/import_layers.py

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps $(TORCH) $(if $(TORCH_INDEX),--retries 2 --extra-index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	$(BIN)/python -c "import torch; print('installed torch', torch.__version__)"
	touch $@
