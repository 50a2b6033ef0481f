#!/usr/bin/env bash
# Set up everything netspot needs on a Debian machine: Debian packages (the reference tools
# nfdump, tshark, softflowd) and a Python virtual environment in .venv with netspot installed.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v nfdump >/dev/null || need+=(nfdump)
command -v tshark >/dev/null || need+=(tshark)
command -v softflowd >/dev/null || [ -x /usr/sbin/softflowd ] || need+=(softflowd)
# the tests read the store with real Spark in local mode, which needs a Java runtime
if [ "${1:-}" = dev ]; then command -v java >/dev/null || need+=(default-jre-headless); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "netspot needs Python 3.11+" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
extras="${1:-}"
stamp=".venv/.netspot-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
