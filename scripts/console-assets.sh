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
# ZXing's UMD build (pure JS, no wasm): QR, Code 128 and Code 39 from the camera on the scan
# pages. It bundles ts-custom-error, whose MIT licence follows ZXing's Apache-2.0 one.
cp node_modules/@zxing/library/umd/index.min.js assets/vendor/zxing.min.js
{
  cat node_modules/@zxing/library/LICENSE
  printf '\n\n---- ts-custom-error (bundled in zxing.min.js) ----\n\n'
  cat node_modules/ts-custom-error/LICENSE
} > assets/vendor/zxing.LICENSE
echo "htmx $(node -p 'require("./node_modules/htmx.org/package.json").version') copied to http/console/assets/vendor/"
echo "@zxing/library $(node -p 'require("./node_modules/@zxing/library/package.json").version') copied to http/console/assets/vendor/"
