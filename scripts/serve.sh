#!/usr/bin/env bash
# Install MessageBot on a fresh Debian machine with Python 3.11 and run it on $PORT (8000).
# With no OPENAI_API_KEY / OPENAI_BASE_URL it uses the embedded local model.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv 2>/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  python3 -m venv .venv
}
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[local]"
exec messagebot serve "$@"
