# The README's two commands. Each creates .venv if missing and installs the project (cpu + dev extras)
# only when pyproject.toml changed since the last install (a stamp file keyed on its hash).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
# torchvision/torchaudio/torchcodec from the index break `transformers` imports beside torch 2.13+cpu
# ("operator torchvision::nms does not exist"): remove them after every install (DESIGN.md).
BREAKING := torchvision torchaudio torchcodec

.PHONY: setup train test test-all bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== installing rlvr (cpu + dev extras) into $(VENV); the first time takes a few minutes =="
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[cpu,dev]'
	-$(PY) -m pip uninstall -q -y $(BREAKING)
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

train: setup
	$(PY) -m rlvr.train $(ARGS)

# The fast tier: everything but the tests marked slow (multi-minute end-to-end runs).
test: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Every test, the end-to-end runs included (what CI runs).
test-all: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(ARGS)

clean-venv:
	rm -rf $(VENV)
