"""The container's HEALTHCHECK: 0 when HEALTHCHECK_URL answers 200, else 1 (no Django: fast).

The web server answers /healthz (database, cache, channel layer, broker); the worker, beat
and market-data processes answer their metrics port (the process is up and serving)."""

import os
import sys
import urllib.request

URL = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/healthz")

try:
    with urllib.request.urlopen(URL, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"unhealthy: {URL}: {exc}", file=sys.stderr)
    sys.exit(1)
