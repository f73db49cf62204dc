#!/usr/bin/env python3
"""Container health probe for Heartline images (installed as `heartline-healthcheck`).

python:3.11-slim has no curl, so the image's HEALTHCHECK runs this instead.
It finds out which service the container runs from PID 1's command line
(`heartline serve ingest`, `heartline worker analyzer`, ...), picks that
service's port from the same HEARTLINE_* variables the service reads, and
asks its /readyz (or the path given as the first argument). Containers that
run a one-shot command (`heartline topics create`, `heartline lag`, ...) have
no HTTP endpoint and are reported healthy.

Usage: heartline-healthcheck [PATH] [PORT]      (exit 0 = healthy, 1 = not)
Override the port with HEARTLINE_HEALTH_PORT.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"gateway": 8000, "ingest": 8001, "worker": 6066}


def port_for(argv: list[str], env: dict[str, str]) -> int | None:
    """The HTTP port of the Heartline service started with `argv`, or None."""
    if env.get("HEARTLINE_HEALTH_PORT"):
        return int(env["HEARTLINE_HEALTH_PORT"])
    words = [os.path.basename(a) for a in argv]
    if "heartline" in words:
        words = words[words.index("heartline") + 1 :]
    if len(words) >= 2 and words[0] == "serve":
        service = words[1]
        if service in ("gateway", "ingest"):
            return int(env.get(f"HEARTLINE_{service.upper()}_PORT") or DEFAULT_PORTS[service])
        # Any other served service (recorder, ...) uses the generic worker port.
        return int(env.get("HEARTLINE_WORKER_PORT") or DEFAULT_PORTS["worker"])
    if len(words) >= 2 and words[0] == "worker":
        return int(env.get("HEARTLINE_WORKER_PORT") or DEFAULT_PORTS["worker"])
    return None


def _pid1_argv() -> list[str]:
    try:
        with open("/proc/1/cmdline", "rb") as fh:
            raw = fh.read()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def main(args: list[str]) -> int:
    path = args[0] if args else "/readyz"
    port = int(args[1]) if len(args) > 1 else port_for(_pid1_argv(), dict(os.environ))
    if port is None:
        return 0  # one-shot command: nothing to probe
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return 0 if 200 <= resp.status < 300 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
