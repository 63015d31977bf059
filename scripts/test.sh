#!/usr/bin/env bash
# Set up (idempotent) and run every check CI runs: ruff, mypy on the core and the language server,
# the import-linter layering contracts, the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check codeassist lsp tests benchmarks
# mypy (strict) on the core and on the language server; lsp/ is imported as codeassist_lsp, so
# mypy sees it through a symlink of that name
lsp_alias="$(mktemp -d)"
trap 'rm -rf "$lsp_alias"' EXIT
ln -s "$PWD/lsp" "$lsp_alias/codeassist_lsp"
MYPYPATH="$lsp_alias" .venv/bin/mypy -p codeassist -p codeassist_lsp
# the layering contracts of pyproject.toml ([tool.importlinter]): core free of UI, surfaces over the core
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
