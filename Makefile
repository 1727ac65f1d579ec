# Set-up and everyday commands. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0

.PHONY: venv demo test bench clean

venv: $(VENV)/.installed

# torch goes in first, pinned, so pip never resolves an unpinned torch to a multi-GB CUDA build.
# GPU users: install the CUDA build of torch into .venv first, e.g.
#   python3 -m venv .venv && .venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cu128
# then `make venv TORCH=torch` (keeps that build), and run with --device cuda (or the default auto).
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test,web]'
	touch $@

demo: venv
	$(BIN)/untrained texture examples/ink.jpg -o out/ink.png --size 256 --seed 0

# The coverage report (branches too) is printed, never gated on.
test: venv
	$(BIN)/python -m pytest -q --cov=untrained --cov-branch --cov-report=term-missing:skip-covered

bench: venv
	$(BIN)/python benchmarks/bench_texture.py

clean:
	rm -rf out .pytest_cache
