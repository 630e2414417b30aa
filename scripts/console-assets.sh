#!/usr/bin/env bash
# Copies the console's browser libraries from npm into http/console/assets/vendor/ with their
# licences. The copies are committed, so `cargo build` never needs npm; run this after changing
# http/console/package.json (versions are pinned by its package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../http/console"
npm ci --no-audit --no-fund --ignore-scripts
mkdir -p assets/vendor
cp node_modules/htmx.org/dist/htmx.min.js assets/vendor/htmx.min.js
cp node_modules/htmx.org/LICENSE assets/vendor/htmx.LICENSE
echo "htmx $(node -p 'require("./node_modules/htmx.org/package.json").version') copied to http/console/assets/vendor/"
