#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (no browser download by Playwright).
# They also run rasa-webchat, the most used website widget for Rasa, against Regelhulp
# (tests/integration/test_webchat_browser.py). Only its self-contained bundle (lib/index.js, React included)
# is used, so the package is fetched from npm with `npm pack` (the tarball alone, without the
# package's build-time dependency tree), checked against the integrity recorded here, and unpacked
# into tests/webchat/node_modules/rasa-webchat (git-ignored); only when that version is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

WEBCHAT_VERSION=1.0.1
WEBCHAT_INTEGRITY="sha512-Ld1zVJvTAaTrs6A5p8t70agNNrKYRyXlvqXZRgBoDvKKUXbA0jhJKECi5bdPGlaR6jsmqWtVylHS+YqIqo0x8w=="
WEBCHAT_DIR=tests/webchat/node_modules/rasa-webchat

install_chromium() {
  if command -v chromium >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != "0" ]; then
    echo "error: the browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1
  fi
  echo "setup: installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
}

install_webchat() {
  if [ -f "$WEBCHAT_DIR/lib/index.js" ] && [ "$(cat "$WEBCHAT_DIR/.regelhulp-version" 2>/dev/null)" = "$WEBCHAT_VERSION" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js) is needed for the rasa-webchat test: apt-get install nodejs npm" >&2; exit 1; }
  echo "setup: fetching rasa-webchat $WEBCHAT_VERSION from npm for the browser tests"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack "rasa-webchat@$WEBCHAT_VERSION" --silent --no-fund >/dev/null)
  local tarball="$tmp/rasa-webchat-$WEBCHAT_VERSION.tgz"
  local got
  got="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [ "$got" != "$WEBCHAT_INTEGRITY" ]; then
    echo "error: rasa-webchat $WEBCHAT_VERSION from npm has integrity $got, expected $WEBCHAT_INTEGRITY" >&2; exit 1
  fi
  rm -rf "$WEBCHAT_DIR"
  mkdir -p "$WEBCHAT_DIR"
  tar -xzf "$tarball" -C "$WEBCHAT_DIR" --strip-components=1 package/lib/index.js package/LICENSE package/package.json
  echo "$WEBCHAT_VERSION" > "$WEBCHAT_DIR/.regelhulp-version"
}

install_chromium
install_webchat
