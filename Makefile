# Two entry points for a fresh machine (Debian, Python 3.11, no GPU, registries only):
#   make study   -> set up .venv and run the main job: every notebook headless + the HTML report
#                   (PROFILE=quick by default; smoke | quick | teaching | paper)
#   make test    -> set up .venv (with test tools) and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PROFILE ?= quick

.PHONY: study test bench bench-step setup setup-dev clean

$(VENV)/.ok: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@bash scripts/ensure_system_libs.sh $(PY)
	touch $@

$(VENV)/.dev-ok: $(VENV)/.ok
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.ok
setup-dev: $(VENV)/.dev-ok

study: $(VENV)/.ok
	$(PY) -m i2p study --profile $(PROFILE)

test: $(VENV)/.dev-ok
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

bench: $(VENV)/.ok
	$(PY) benchmarks/sparse_conv.py --precision bf16

bench-step: $(VENV)/.ok
	$(PY) benchmarks/train_step.py

clean:
	rm -rf $(VENV) runs study *.egg-info
