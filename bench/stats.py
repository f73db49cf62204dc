"""Numbers for the end-to-end benchmark: percentiles, per-process CPU/RSS, metric scrapes."""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import psutil


def epoch(ts: str | None) -> float | None:
    if not ts:
        return None
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def summary_ms(values_s: list[float]) -> dict:
    """n, p50, p95, p99, max in milliseconds (values given in seconds)."""
    out = {"n": len(values_s)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        v = pct(values_s, q)
        out[name] = None if v is None else round(v * 1000, 1)
    return out


def median_ms(values_s: list[float]) -> float | None:
    v = pct(values_s, 50)
    return None if v is None else round(v * 1000, 1)


# --------------------------------------------------------------------------- processes


class ProcWatch:
    """CPU % (of one core) and RSS of named processes (children included) over a window."""

    def __init__(self, pids: dict[str, int], own_only: set[str] = frozenset()):
        self.own_only = own_only
        self.procs: dict[str, psutil.Process] = {}
        for name, pid in pids.items():
            try:
                self.procs[name] = psutil.Process(pid)
            except psutil.NoSuchProcess:
                pass
        self.t0 = None
        self.cpu0: dict[str, float] = {}
        self.rss_peak: dict[str, int] = {}
        self.sys0 = None

    def _tree(self, p: psutil.Process) -> list[psutil.Process]:
        if any(self.procs.get(n) is p for n in self.own_only):
            return [p]
        try:
            return [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _cpu(self, p: psutil.Process) -> float:
        total = 0.0
        for q in self._tree(p):
            try:
                t = q.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def _rss(self, p: psutil.Process) -> int:
        total = 0
        for q in self._tree(p):
            try:
                total += q.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def start(self, now: float) -> None:
        self.t0 = now
        self.cpu0 = {n: self._cpu(p) for n, p in self.procs.items()}
        self.sys0 = psutil.cpu_times()
        self.sample()

    def sample(self) -> None:
        for n, p in self.procs.items():
            self.rss_peak[n] = max(self.rss_peak.get(n, 0), self._rss(p))

    def stop(self, now: float) -> dict:
        self.sample()
        wall = max(1e-6, now - self.t0)
        out = {}
        for n, p in self.procs.items():
            out[n] = {
                "cpu_pct": round((self._cpu(p) - self.cpu0.get(n, 0.0)) / wall * 100, 1),
                "rss_mb": round(self._rss(p) / 2**20, 1),
                "rss_peak_mb": round(self.rss_peak.get(n, 0) / 2**20, 1),
            }
        sys1 = psutil.cpu_times()
        busy = sum(
            getattr(sys1, f) - getattr(self.sys0, f)
            for f in ("user", "system", "nice", "irq", "softirq", "steal")
            if hasattr(sys1, f)
        )
        ours = sum(v["cpu_pct"] for v in out.values())
        machine = busy / wall * 100
        out["_machine"] = {
            "cpu_pct": round(machine, 1),
            "cores": psutil.cpu_count(),
            "not_ours_pct": round(max(0.0, machine - ours), 1),
        }
        return out


# --------------------------------------------------------------------------- metrics


FAILED: set[str] = set()


def scrape(urls: list[str]) -> dict[tuple, float]:
    """Prometheus samples summed over the given /metrics URLs: (name, labels...) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[tuple, float] = {}
    for url in urls:
        try:
            resp = httpx.get(url, timeout=5)
        except httpx.HTTPError:
            continue
        if resp.status_code != 200:
            FAILED.add(f"{url} {resp.status_code}")
            continue
        try:
            for fam in text_string_to_metric_families(resp.text):
                for s in fam.samples:
                    key = (s.name, tuple(sorted(s.labels.items())))
                    out[key] = out.get(key, 0.0) + s.value
        except ValueError:
            FAILED.add(f"{url} unparsable")
    return out


def total(samples: dict[tuple, float], name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))
