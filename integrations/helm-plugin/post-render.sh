#!/bin/sh
# Helm 4 post-renderer plugin: hands the manifest stream to the
# tracecat-chart found on PATH (override with TRACECAT_CHART=/path/to/bin).
# Arguments come from --post-renderer-args, e.g. -f overlay.yaml.
set -eu
exec "${TRACECAT_CHART:-tracecat-chart}" post-render "$@"
