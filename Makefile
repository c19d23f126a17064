# The two commands of the README:
#   make demo   create .venv if missing, install, run `docpatch demo` on the sample corpus
#   make test   create .venv if missing, install, run the whole test suite
# Installing is shared and idempotent: it reruns only when pyproject.toml changes (a stamp keyed
# on its hash). torch is installed first, pinned, so pip takes the CPU wheel instead of pulling
# several GB of CUDA libraries. pip is upgraded first: the one bundled with Python 3.11 (23.2)
# crashed resolving this dependency set on a fresh venv.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STATE := $(CURDIR)/.docpatch
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

# Offline, quiet and self-contained: Prefect's and Ray's files stay in the ignored .docpatch/.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME := $(STATE)/prefect
export RAY_TMPDIR := $(STATE)/ray
export RAY_USAGE_STATS_ENABLED := 0
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The state folders are made on every run, so `make clean` (which removes them) can be followed by either:
# Prefect does not create its home's parents and its ephemeral server then times out.
demo: install
	@mkdir -p $(PREFECT_HOME) $(RAY_TMPDIR)
	$(BIN)/docpatch demo

test: install
	@mkdir -p $(PREFECT_HOME) $(RAY_TMPDIR)
	$(BIN)/python -m pytest -q

# Removes the demo's store and Prefect/Ray state (not the venv, not the model cache in ~/.cache/docpatch).
clean:
	rm -rf $(STATE)
