#!/usr/bin/env bash
# Debian packages the tests use: chromium (the browser tests drive /usr/bin/chromium with
# playwright-core) with a CJK font (their screenshots show Chinese text), and tmux (the
# terminal tests run the client in a real pseudo-terminal), tshark (the Wireshark dissector tests), and
# redis-server and redis-sentinel (the cluster tests start their own, on ephemeral ports), the IRC clients
# the IRC door's tests drive (irssi, and weechat-headless with weechat-plugins: its FIFO), curl (the web
# resume test resumes a download with curl -C -), and iproute2 (ip and tc: LFTP beside a TCP stream on
# the kernel's own link, in a private network namespace).
# Installs what is missing when this runs as root with apt-get (CI, a fresh machine);
# otherwise says how, and the tests that need them fail with the same advice.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v irssi >/dev/null 2>&1 || missing+=(irssi)
command -v weechat-headless >/dev/null 2>&1 || missing+=(weechat-headless)
dpkg -s weechat-plugins >/dev/null 2>&1 || missing+=(weechat-plugins)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v tc >/dev/null 2>&1 || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's ${missing[*]} for the tests (apt-get, about a minute)..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "apt-get could not install ${missing[*]}" >&2
fi
echo "missing ${missing[*]}, so the tests that need them will fail: install with  sudo apt-get install ${missing[*]}" >&2
exit 0
