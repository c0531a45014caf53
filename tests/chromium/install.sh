#!/usr/bin/env bash
# Install Debian's Chromium for tests/test_report_browser.py (as root), if missing.
#   tests/chromium/install.sh
# Prints the browser's path. Exits non-zero where it cannot be installed; the test
# is then skipped with this script's message as the reason.
set -euo pipefail
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "chromium is missing and installing it needs root and apt-get" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v chromium
