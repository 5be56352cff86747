# The two commands of the README: `make run` (the embedded default end to end) and `make test`.
# Both create the virtual environment .venv on first use (CPU torch pinned first, then the project).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup
# Recovers from an interrupted run: unlocks only when no Snakemake process holds the lock, then
# `snakemake --rerun-incomplete` (README, "When a run is interrupted").
run: $(VENV)/.installed
	$(BIN)/python -m polyalign.workflow_recovery --cores all

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

$(VENV)/.installed: pyproject.toml
	# Figures label Chinese buckets: a CJK font (Debian fonts-wqy-microhei; or set figures.cjk_font).
	test -f $(CJK_FONT) || { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The pinned CPU wheel first: an unpinned resolve would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	touch $@
