#!/usr/bin/env bash
# Installs nginx (Debian package) for the production profile, without starting the system service:
# the profile runs its own nginx with the configuration in build/prod/.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: nginx is missing; install the Debian package 'nginx' (the production profile needs it)" >&2
  exit 1
fi
echo "setup: installing nginx (Debian package)"
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then  # keep the package from starting the system-wide service on port 80
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
