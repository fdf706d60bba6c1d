#!/usr/bin/env bash
# Prints the path of a Python 3.8-3.10 interpreter that really runs (Rasa 3.6 supports only these).
# Order: python3.10/3.9/3.8 on PATH, then versions that pyenv has installed. A pyenv shim for a
# version that is not selected fails to run, so every candidate is tried, never trusted by name.
set -u
runs() { "$1" -c 'import sys; assert (3, 8) <= sys.version_info[:2] <= (3, 10)' >/dev/null 2>&1; }
real_path() { "$1" -c 'import sys; print(sys.executable)'; }

for name in python3.10 python3.9 python3.8; do
  if command -v "$name" >/dev/null 2>&1 && runs "$name"; then
    real_path "$name"; exit 0
  fi
done

if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(10|9|8)\.[0-9]+$' | sort -t. -k2,2nr -k3,3nr); do
    prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
    if runs "$prefix/bin/python"; then
      real_path "$prefix/bin/python"; exit 0
    fi
  done
fi

cat >&2 <<'MSG'
error: no Python 3.8, 3.9 or 3.10 found. Rasa 3.6 runs only on these versions.
Install one, for example:  pyenv install 3.10.13   (or: apt-get install python3.10 python3.10-venv)
then run the command again.
MSG
exit 1
