#!/usr/bin/env bash
# Set up (idempotent) and run every check CI runs: ruff, mypy on the core, the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check codeassist lsp tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
