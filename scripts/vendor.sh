#!/usr/bin/env bash
# Copy the front-end files LeadHub serves from node_modules/ into src/leadhub/static/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/leadhub/static/vendor
mkdir -p "$out"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$out/"
cp node_modules/bootstrap/dist/css/bootstrap.rtl.min.css "$out/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$out/"
cp node_modules/htmx.org/dist/htmx.min.js "$out/"
cp node_modules/chart.js/dist/chart.umd.js "$out/"
cp node_modules/socket.io-client/dist/socket.io.min.js "$out/"
