#!/bin/sh
# Helm 4 post-renderer plugin: hands the manifest stream to the
# tracecat-chart found on PATH (override with TRACECAT_CHART=/path/to/bin).
# Arguments come from --post-renderer-args, e.g. -f overlay.yaml.
# Helm 4 does not show a plugin's stderr (only "plugin exited with error"),
# so the last run's messages are also kept in a log only its owner can read
# (TRACECAT_POST_RENDER_LOG overrides where).
set -eu
log="${TRACECAT_POST_RENDER_LOG:-${XDG_STATE_HOME:-$HOME/.local/state}/tracecat-chart/post-render.log}"
umask 077
mkdir -p "$(dirname "$log")"
status=0
"${TRACECAT_CHART:-tracecat-chart}" post-render "$@" 2>"$log" || status=$?
cat "$log" >&2
exit "$status"
