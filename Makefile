# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench package clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Starts the bundled training gateway on 127.0.0.1 and opens the client against it.
run: $(STAMP)
	$(PY) -m mdt.devrun

# The whole suite, headless.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	$(PY) -m ruff check mdt mock_server tests benchmarks
	$(PY) -m mypy

lint: $(STAMP)
	$(PY) -m ruff check mdt mock_server tests benchmarks
	$(PY) -m mypy

bench: $(STAMP)
	for b in benchmarks/*.py; do QT_QPA_PLATFORM=offscreen $(PY) $$b | tail -n 1; done

clean:
	rm -rf $(VENV) build dist packaging/build packaging/dist *.egg-info
