#!/usr/bin/env bash
# The main job on the embedded default: simulate a sample day, ingest it, print the ingest summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/netspot demo "$@"
