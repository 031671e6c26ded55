"""The cluster of deploy/cluster.sh for tests and benchmarks: N replicas behind nginx on free ports.

nginx comes from Debian (`apt-get install -y nginx`; .ci/run installs it). Without it the cluster
tests are skipped on a developer machine and FAIL under CI=true, as browser tests do without Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, ROOT, free_port

CLUSTER_SH = ROOT / "deploy" / "cluster.sh"
sys.path.insert(0, str(ROOT / "deploy"))
import cluster as _cluster  # noqa: E402  (deploy/cluster.py: where it looks for nginx, what is healthy)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_nginx() -> None:
    """Skip locally, fail in CI, when nginx is missing."""
    try:
        _cluster.find_nginx()
    except _cluster.ClusterError as e:
        if in_ci():
            pytest.fail(f"cluster tests cannot run in CI: {e}")
        pytest.skip(str(e))


def free_base_port(n: int) -> int:
    """A port P with P … P+n all free on 127.0.0.1 (the balancer and its n replicas)."""
    for _ in range(50):
        p = free_port()
        if p + n < 65536 and all(_cluster.port_free(p + i) for i in range(n + 1)):
            return p
    raise RuntimeError("no free run of ports")


class Cluster:
    """`deploy/cluster.sh start N PORT` with its own session folder and run folder; stop() undoes it."""

    def __init__(self, n: int, session_dir: str | None = None):
        self.n = n
        self.port = free_base_port(n)
        self.url = f"http://localhost:{self.port}"
        self.run = Path(tempfile.mkdtemp(prefix="rnnviz-cluster-test-")) / "run"
        self.own_sessions = session_dir is None          # a folder of its own: removed by stop()
        self.sessions = session_dir or tempfile.mkdtemp(prefix="rnnviz-cluster-sessions-")
        self.env = {**os.environ, "PYTHON": sys.executable, "RNNVIZ_SESSION_DIR": self.sessions,
                    "RNNVIZ_CLUSTER_RUN": str(self.run)}
        self.sh("start", str(n), str(self.port), timeout=300)

    def sh(self, *args: str, timeout: float = 180) -> str:
        r = subprocess.run([str(CLUSTER_SH), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode:
            raise RuntimeError(f"cluster.sh {' '.join(args)} failed ({r.returncode}): {r.stderr[-3000:]}")
        return r.stdout

    def pid(self, i: int) -> int:
        """The PID of replica i (1 … n), from the run folder."""
        return int((self.run / f"replica-{i}.pid").read_text())

    def restart(self, i: int) -> None:
        self.sh("restart", str(self.port), str(i))

    def ports(self) -> list[int]:
        return json.loads((self.run / "cluster.json").read_text())["ports"]

    def save_logs(self, name: str) -> None:
        """Copy the replicas' and nginx's logs to test-artifacts/ (the run folder goes with stop())."""
        ARTIFACTS.mkdir(exist_ok=True)
        for log in self.run.glob("*.log"):
            shutil.copy(log, ARTIFACTS / f"{name}-{log.name}")

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.run.glob("replica-*.log")))

    def stop(self) -> None:
        if self.run.exists():
            self.sh("stop", str(self.port))
        shutil.rmtree(self.run.parent, ignore_errors=True)
        if self.own_sessions:
            shutil.rmtree(self.sessions, ignore_errors=True)


# What a page's own requests reach: nginx names the replica that answered (X-Rnnviz-Replica). The
# page's cookie decides where its requests and its websocket go, so this is the replica serving it.
SERVING_REPLICA_JS = "async () => (await fetch('/_stcore/health', {cache: 'no-store'})).headers.get('x-rnnviz-replica')"


def serving_replica(page) -> int:
    name = page.evaluate(SERVING_REPLICA_JS)
    assert name and name.startswith("r"), f"no replica named in the response: {name!r}"
    return int(name[1:])
