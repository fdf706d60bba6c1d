#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (no browser download by Playwright).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "error: the browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1
fi
echo "setup: installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
