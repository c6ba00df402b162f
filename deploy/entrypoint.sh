#!/bin/sh
# Every container process starts here: the metrics files of a previous run (a restart keeps
# the container's file system) would be added to this run's figures, so they go first.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi
exec "$@"
