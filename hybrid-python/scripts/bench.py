#!/usr/bin/env python3
"""Lists every server of a local fake OpenStack (50 000 by default) through the Python
bindings (blocking iterator and async iterator) and through the Rust API
(`examples/list_servers.rs`), in the same run against the same fake, and reports both.

    bash hybrid-python/scripts/test.sh          # builds and installs the wheel once
    target/hybrid-py-venv/bin/python hybrid-python/scripts/bench.py [--servers N] [--runs N]

It builds the fake and the Rust lister in release mode, starts the fake on 127.0.0.1
(stopping it at the end), and prints a table and one JSON line. Each figure is the best
of `--runs` full listings; every listing is checked to return every server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import hybrid

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cargo_build(*args: str) -> None:
    subprocess.run(["cargo", "build", "--release", "--quiet", *args], cwd=ROOT, check=True)


def start_fake(tmp: pathlib.Path, servers: int, latency_ms: int) -> tuple[subprocess.Popen, pathlib.Path]:
    clouds = tmp / "clouds.yaml"
    proc = subprocess.Popen(
        [
            str(ROOT / "target/release/fake-openstack"),
            "--port", "0",
            "--servers", str(servers),
            "--latency-ms", str(latency_ms),
            "--clouds-yaml", str(clouds),
            "--cloud-name", "bench",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("OS_AUTH_URL="):
        proc.kill()
        raise SystemExit(f"fake-openstack did not start: {line!r}")
    return proc, clouds


def python_sync(cloud: hybrid.Cloud, page_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    for _ in cloud.compute.list_servers(page_size=page_size):
        n += 1
    return n, time.perf_counter() - started


def python_async(cloud: hybrid.Cloud, page_size: int) -> tuple[int, float]:
    async def main() -> tuple[int, float]:
        started = time.perf_counter()
        n = 0
        async for _ in cloud.compute.alist_servers(page_size=page_size):
            n += 1
        return n, time.perf_counter() - started

    return asyncio.run(main())


def python_touch(cloud: hybrid.Cloud, page_size: int) -> tuple[int, float]:
    """Lists and reads three attributes of every server (what a real script does)."""
    started = time.perf_counter()
    n = 0
    for s in cloud.compute.list_servers(page_size=page_size):
        if s.id and s.name and s.status:
            n += 1
    return n, time.perf_counter() - started


def rust(clouds: pathlib.Path, page_size: int) -> tuple[int, float]:
    out = subprocess.run(
        [str(ROOT / "target/release/examples/list_servers"), str(clouds), "bench", str(page_size)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return doc["servers"], doc["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=0, help="latency the fake adds to every request")
    args = ap.parse_args()

    print("building the fake and the Rust lister (release)...", file=sys.stderr)
    cargo_build("-p", "hybrid-fake-openstack", "--bin", "fake-openstack")
    cargo_build("-p", "hybrid-python", "--example", "list_servers")

    with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as tmp:
        proc, clouds = start_fake(pathlib.Path(tmp), args.servers, args.latency_ms)
        try:
            cloud = hybrid.Cloud.openstack("bench", clouds_yaml=clouds)
            rows = {}
            for name, fn in [
                ("rust (hybrid crate)", lambda: rust(clouds, args.page_size)),
                ("python: for s in list_servers()", lambda: python_sync(cloud, args.page_size)),
                ("python: async for s in alist_servers()", lambda: python_async(cloud, args.page_size)),
                ("python: list_servers() + 3 attributes", lambda: python_touch(cloud, args.page_size)),
            ]:
                fn()  # warm-up: token, connections, caches
                times = []
                for _ in range(args.runs):
                    n, secs = fn()
                    if n != args.servers:
                        raise SystemExit(f"{name}: listed {n} servers, expected {args.servers}")
                    times.append(secs)
                rows[name] = times
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    base = min(rows["rust (hybrid crate)"])
    print(f"\n{args.servers} servers, page size {args.page_size}, fake latency {args.latency_ms} ms, best of {args.runs}\n")
    print(f"{'':42} {'best s':>8} {'median s':>9} {'servers/s':>11} {'vs rust':>8}")
    for name, times in rows.items():
        best = min(times)
        print(
            f"{name:42} {best:8.3f} {statistics.median(times):9.3f} {args.servers / best:11.0f} {best / base:7.2f}x"
        )
    print(
        json.dumps(
            {
                "servers": args.servers,
                "page_size": args.page_size,
                "latency_ms": args.latency_ms,
                "runs": args.runs,
                "best_seconds": {k: round(min(v), 4) for k, v in rows.items()},
                "median_seconds": {k: round(statistics.median(v), 4) for k, v in rows.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
