"""One client floods a local server with fresh sessions; what happens to the disk and to everyone else?

    python benchmarks/flood_sessions.py                      # 30 s flood, sessions only opened
    python benchmarks/flood_sessions.py --step               # each flood session also clicks Step once
    python benchmarks/flood_sessions.py --seconds 30 --victims 3 --port 8613

Not part of the test run (issue #13). It starts its own `streamlit run app.py` on 127.0.0.1:--port with
a fresh autosave folder (RNNVIZ_SESSION_DIR), then:

1. Baseline: --victims sessions (Streamlit's websocket protocol, benchmarks/load_test.WsClient) press
   Step every --think s for --baseline s; each click is timed until the new step number arrives.
2. Flood: for --seconds, one client opens fresh sessions as fast as the server answers (--parallel at a
   time): connect, run the page, (with --step: click Step once), disconnect. The victims keep stepping.
3. Report: sessions opened, the autosave folder's size and file count (sampled every second: growth
   per second and the peak), the server's RSS, and the victims' Step latency before and during the flood.

Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from load_test import Session, WsClient, pct, rss_mb  # noqa: E402


def start_server(port: int, store: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, RNNVIZ_SESSION_DIR=str(store))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not become healthy within 90 s")


def folder(store: Path) -> tuple[int, int]:
    """(bytes, files) in the autosave folder."""
    if not store.exists():
        return 0, 0
    sizes = [p.stat().st_size for p in store.iterdir() if p.is_file()]
    return sum(sizes), len(sizes)


async def victim(s: Session, url: str, phases: dict, think_s: float, timeout_s: float, stop: asyncio.Event) -> None:
    c = WsClient(s, url)
    try:
        await c.open(timeout_s)
        while not stop.is_set():
            ms = await c.step_once(timeout_s)
            if ms is not None:
                phases[phases["now"]].append(ms)
            await asyncio.sleep(think_s)
    except Exception as e:  # noqa: BLE001  (a benchmark reports, it does not crash)
        s.error(f"{type(e).__name__}: {e}")
    finally:
        await c.close()


async def flooder(url: str, until: float, parallel: int, step: bool, timeout_s: float, counts: dict) -> None:
    async def one(i: int) -> None:
        s = Session(10_000 + i, "protocol", "flood")
        c = WsClient(s, url)
        try:
            await c.open(timeout_s)
            counts["opened"] += 1
            if step:
                await c.step_once(timeout_s)
                counts["stepped"] += 0 if s.errors else 1
        except Exception:  # noqa: BLE001
            counts["failed"] += 1
        finally:
            await c.close()

    i = 0
    running: set[asyncio.Task] = set()
    while time.monotonic() < until:
        while len(running) < parallel and time.monotonic() < until:
            running.add(asyncio.create_task(one(i)))
            i += 1
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED, timeout=0.5)
    if running:
        await asyncio.wait(running, timeout=timeout_s)


async def run(args, url: str, store: Path, pid: int) -> dict:
    phases = {"now": "baseline", "baseline": [], "flood": []}
    stop = asyncio.Event()
    victims = [Session(i, "protocol", "stepper") for i in range(args.victims)]
    tasks = [asyncio.create_task(victim(s, url, phases, args.think, args.timeout, stop)) for s in victims]
    await asyncio.sleep(args.baseline)
    rep = {"store_before": folder(store), "rss_before": rss_mb(pid), "samples": []}
    phases["now"] = "flood"
    counts = {"opened": 0, "stepped": 0, "failed": 0}
    t0 = time.monotonic()
    flood = asyncio.create_task(flooder(url, t0 + args.seconds, args.parallel, args.step, args.timeout, counts))
    while not flood.done():
        rep["samples"].append((time.monotonic() - t0, *folder(store), rss_mb(pid)))
        await asyncio.sleep(1.0)
    await flood
    rep["flood_s"] = time.monotonic() - t0
    stop.set()
    await asyncio.gather(*tasks)
    rep |= {"store_after": folder(store), "rss_after": rss_mb(pid), "counts": counts, "phases": phases,
            "victim_errors": [e for s in victims for e in s.errors]}
    return rep


def report(args, rep: dict) -> None:
    b0, f0 = rep["store_before"]
    b1, f1 = rep["store_after"]
    peak_b = max([b for _, b, _, _ in rep["samples"]] + [b1])
    peak_f = max([f for _, _, f, _ in rep["samples"]] + [f1])
    c, s = rep["counts"], rep["flood_s"]
    print(f"## Flood of fresh sessions: {s:.0f} s, {args.parallel} at a time, "
          f"{'each clicking Step once' if args.step else 'pages only opened'}\n")
    print("| | value |\n|---|---|")
    print(f"| sessions opened | {c['opened']} ({c['opened'] / s:.1f}/s), failed {c['failed']}"
          + (f", stepped {c['stepped']}" if args.step else "") + " |")
    print(f"| autosave folder before → after | {b0 / 2**20:.2f} MB, {f0} files → {b1 / 2**20:.2f} MB, {f1} files |")
    print(f"| folder growth | {(b1 - b0) / 2**20 / s:.3f} MB/s (peak {peak_b / 2**20:.2f} MB, {peak_f} files) |")
    print(f"| server RSS before → after | {rep['rss_before']:.0f} → {rep['rss_after']:.0f} MB |")
    for name in ("baseline", "flood"):
        xs = rep["phases"][name]
        if xs:
            print(f"| victims' Step latency, {name} | p50 {pct(xs, 50):.0f} ms, p95 {pct(xs, 95):.0f} ms, "
                  f"max {max(xs):.0f} ms ({len(xs)} clicks) |")
    print(f"| victims' errors | {rep['victim_errors'] or 'none'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the flood")
    ap.add_argument("--baseline", type=float, default=10.0, help="victims step alone this long first")
    ap.add_argument("--victims", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=8, help="flood sessions being opened at once")
    ap.add_argument("--step", action="store_true", help="each flood session clicks Step once (it then has changed something)")
    ap.add_argument("--think", type=float, default=0.5, help="victims' pause between Step clicks (s)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=8613)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnnviz-flood-") as tmp:
        store = Path(tmp) / "sessions"
        proc = start_server(args.port, store, Path(tmp) / "server.log")
        try:
            rep = asyncio.run(run(args, f"http://127.0.0.1:{args.port}", store, proc.pid))
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    report(args, rep)


if __name__ == "__main__":
    main()
