#!/usr/bin/env bash
# The test suite: lint, types, import layers, then pytest (unit, property, golden, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
