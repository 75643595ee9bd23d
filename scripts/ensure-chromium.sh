#!/usr/bin/env bash
# The browser tests drive Debian's chromium (/usr/bin/chromium) with playwright-core.
# Installs it when it is missing and this runs as root with apt-get (CI, a fresh machine);
# otherwise says how, and the browser tests fail with the same advice.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (apt-get, about a minute)..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
    exit 0
  fi
  echo "apt-get could not install chromium" >&2
fi
echo "chromium is missing, so the browser tests will fail: install it with  sudo apt-get install chromium" >&2
exit 0
