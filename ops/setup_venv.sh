#!/usr/bin/env bash
# Creates .venv with a suitable Python and the pinned requirements (runtime and development: tests,
# lint, types), then tries once to install
# spaCy's Dutch model nl_core_news_sm 3.4.x the standard way. When that download is not
# possible, the project builds its own Dutch pipeline (ops/build_spacy_pipeline.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP=$VENV/.installed
want=$(cat requirements.txt requirements-dev.txt constraints.txt ops/setup_venv.sh | sha256sum | cut -c1-16)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c 'import rasa' >/dev/null 2>&1; then
  exit 0
fi

if ! "$VENV/bin/python" -c 'import sys; assert (3, 8) <= sys.version_info[:2] <= (3, 10)' >/dev/null 2>&1; then
  python=$(bash ops/find_python.sh)
  echo "setup: creating $VENV with $python ($("$python" --version 2>&1))"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
fi

echo "setup: installing pinned requirements (first time: a few minutes)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip<25"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt

if "$VENV/bin/python" -c 'import nl_core_news_sm' >/dev/null 2>&1; then
  echo "setup: spaCy model nl_core_news_sm is installed"
else
  echo "setup: trying to download spaCy model nl_core_news_sm 3.4.x"
  if timeout 120 "$VENV/bin/python" -m spacy download nl_core_news_sm-3.4.0 --direct >/tmp/regelhulp-spacy-download.log 2>&1; then
    echo "setup: nl_core_news_sm installed"
  else
    echo "setup: nl_core_news_sm could not be downloaded here; the project's own Dutch pipeline will be used"
  fi
fi
echo "$want" > "$STAMP"
