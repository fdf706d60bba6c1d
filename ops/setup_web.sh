#!/usr/bin/env bash
# Installs the widget's npm packages (socket.io client, axe-core for the accessibility test)
# from web/package-lock.json, only when the lock file changed. Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/../web"
command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js) is needed for the chat widget: apt-get install nodejs npm" >&2; exit 1; }
stamp=node_modules/.regelhulp-lock
want=$(sha256sum package-lock.json | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "setup: installing the widget's npm packages"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
