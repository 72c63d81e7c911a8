#!/usr/bin/env bash
# Installs what the tests need beyond Cargo, idempotently (a second run only checks):
#  - Meta's official Python Business SDK (facebook-business, pinned with its dependencies in
#    tests/sdk/python/requirements.txt) in a venv at target/sdk/venv;
#  - Meta's official Node.js Business SDK (facebook-nodejs-business-sdk, pinned in
#    tests/sdk/node/package.json and package-lock.json) in tests/sdk/node/node_modules (npm ci);
#  - Debian's chromium, for tests/report_html.rs.
# tests/meta_sdks.rs drives `adskew mock-server` with both SDKs and fails while they are
# missing. Needs python3 (3.9+) and node 20+ with npm; installs them from Debian if absent.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=""
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
    apt-get install -y -qq "$@" >/dev/null
}

stamp() { sha256sum "$1" | cut -d' ' -f1; }

# Debian's chromium (headless, for tests/report_html.rs).
if ! command -v chromium >/dev/null 2>&1; then
    apt_install chromium
fi

# Python: a venv with the pinned SDK, rebuilt when requirements.txt changes.
venv=target/sdk/venv
requirements=tests/sdk/python/requirements.txt
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$(stamp "$requirements")" ] \
    || ! "$venv/bin/python" -c 'import facebook_business' >/dev/null 2>&1; then
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
    stamp "$requirements" > "$venv/.requirements.sha256"
fi

# Node: the pinned SDK from the committed lockfile, reinstalled when the lockfile changes.
node_dir=tests/sdk/node
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi
if [ "$(cat "$node_dir/node_modules/.package-lock.sha256" 2>/dev/null)" != "$(stamp "$node_dir/package-lock.json")" ] \
    || [ ! -d "$node_dir/node_modules/facebook-nodejs-business-sdk" ]; then
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    stamp "$node_dir/package-lock.json" > "$node_dir/node_modules/.package-lock.sha256"
fi

echo "test dependencies: $(chromium --version 2>/dev/null | head -1);" \
    "facebook-business $("$venv/bin/python" -c 'from facebook_business import apiconfig as c; print(c.ads_api_config["SDK_VERSION"], "API", c.ads_api_config["API_VERSION"])');" \
    "facebook-nodejs-business-sdk $(cd "$node_dir" && node -p 'require("facebook-nodejs-business-sdk/package.json").version + " API " + require("facebook-nodejs-business-sdk").FacebookAdsApi.VERSION')"
