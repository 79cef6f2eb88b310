#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download is not reachable here).
set -eu
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
