"""What of deploy/ can be checked on this machine (issue #22): the cluster script's own behaviour
(start, files private, stop cleans up, refusal without nginx), the nginx config it writes, and the
shape of the Dockerfile and the Kubernetes manifest, which cannot run here (no Docker daemon, no
cluster): they must run the command deploy/cluster.sh runs, probe the health endpoint, keep browsers
on one replica by cookie and share one ReadWriteMany session folder."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys

import pytest
import yaml

from browser_support import ROOT
from cluster_support import CLUSTER_SH, Cluster, _cluster, require_nginx

MANIFEST = ROOT / "deploy" / "kubernetes.yaml"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_is_slim_runs_as_a_user_installs_the_runtime_only_and_runs_what_the_cluster_runs():
    steps = dockerfile()
    (base,) = [a for i, a in steps if i == "FROM"]
    assert base.startswith("python:3.1") and base.endswith("-slim")
    runs = " ".join(a for i, a in steps if i == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs and "requirements-dev" not in runs
    (user,) = [a for i, a in steps if i == "USER"]
    assert user not in ("root", "0")
    (health,) = [a for i, a in steps if i == "HEALTHCHECK"]
    assert "/_stcore/health" in health and "8501" in health
    (cmd,) = [json.loads(a) for i, a in steps if i == "CMD"]
    assert cmd == _cluster.replica_command("python", 8501, "0.0.0.0")
    copied = {a.split()[0].rstrip("/") for i, a in steps if i == "COPY"}
    assert {"app.py", "pages", "rnnviz", "sample_texts", ".streamlit"} <= copied   # everything the app reads
    env = " ".join(a for i, a in steps if i == "ENV")
    assert "RNNVIZ_SESSION_DIR=/sessions/" in env and "COOKIE_SECRET=" not in env   # no secret in the image


def test_the_manifest_has_a_deployment_service_ingress_with_cookie_affinity_and_a_shared_volume():
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if d]
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"PersistentVolumeClaim", "Deployment", "Service", "Ingress"}
    assert kinds["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]

    dep = kinds["Deployment"]["spec"]
    assert dep["replicas"] >= 2
    pod = dep["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (c,) = pod["containers"]
    (cmd,) = [json.loads(a) for i, a in dockerfile() if i == "CMD"]
    assert c["command"] == cmd
    port = c["ports"][0]
    assert port["containerPort"] == 8501
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/_stcore/health" and c[probe]["httpGet"]["port"] == port["name"]
    env = {e["name"]: e for e in c["env"]}
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]["name"]   # one secret for all
    (mount,) = c["volumeMounts"]
    assert env["RNNVIZ_SESSION_DIR"]["value"].startswith(mount["mountPath"] + "/")
    (vol,) = pod["volumes"]
    assert vol["name"] == mount["name"]
    assert vol["persistentVolumeClaim"]["claimName"] == kinds["PersistentVolumeClaim"]["metadata"]["name"]

    svc = kinds["Service"]["spec"]
    assert svc["selector"] == dep["selector"]["matchLabels"] and svc["ports"][0]["targetPort"] == port["name"]
    ing = kinds["Ingress"]
    notes = ing["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-change-on-failure"] == "true"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600       # websockets stay open
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == kinds["Service"]["metadata"]["name"]


def test_ci_installs_nginx_for_the_cluster_tests():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "nginx" in ci and "apt-get install -y" in ci


def test_the_nginx_config_is_valid_keeps_host_and_never_balances_by_address(tmp_path):
    require_nginx()
    conf = _cluster.nginx_conf(tmp_path, 8600, [8601, 8602, 8603], "127.0.0.1")
    (tmp_path / "nginx-tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(conf)
    r = subprocess.run([_cluster.find_nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                        "-e", str(tmp_path / "nginx.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "ip_hash" not in conf and "$remote_addr" not in conf     # a lecture hall shares one address
    assert "proxy_set_header Host $http_host;" in conf              # Streamlit checks Origin against Host
    assert "$cookie_rnnviz_replica" in conf and conf.count("upstream rnnviz_r") == 3


def test_the_cluster_refuses_clearly_without_nginx(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "NGINX": str(tmp_path / "no-nginx-here"),
           "RNNVIZ_CLUSTER_RUN": str(tmp_path / "run")}
    r = subprocess.run([str(CLUSTER_SH), "start", "1", "18600"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "nginx was not found" in r.stderr and "apt-get install -y nginx" in r.stderr
    assert not (tmp_path / "run").exists()                          # nothing started, nothing written


def test_the_cluster_keeps_its_files_private_and_stop_ends_everything_it_started(tmp_path):
    require_nginx()
    c = Cluster(1, session_dir=str(tmp_path / "sessions"))
    try:
        pids = [c.pid(1), int((c.run / "nginx.pid").read_text())]
        assert stat.S_IMODE(c.run.stat().st_mode) == 0o700
        assert stat.S_IMODE((c.run / "cookie-secret").stat().st_mode) == 0o600
        assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in c.run.iterdir())
        assert len((c.run / "cookie-secret").read_text().strip()) == 64
        secret = (c.run / "cookie-secret").read_text().strip()
        assert secret not in shlex.join(_cluster.cmdline(pids[0]).split())    # in the environment, not argv
        status = c.sh("status", str(c.port))
        assert "replica 1" in status and "healthy" in status
        with pytest.raises(RuntimeError, match="already running"):
            c.sh("start", "1", str(c.port))
    finally:
        c.stop()
    assert not c.run.exists()
    assert not any(_cluster.pid_alive(p) for p in pids)


def test_ctrl_c_stops_a_cluster_run_in_the_foreground(tmp_path):
    require_nginx()
    import signal
    import time

    from cluster_support import free_base_port

    port = free_base_port(1)
    run = tmp_path / "run"
    env = {**os.environ, "PYTHON": sys.executable, "RNNVIZ_SESSION_DIR": str(tmp_path / "sessions"),
           "RNNVIZ_CLUSTER_RUN": str(run)}
    proc = subprocess.Popen([str(CLUSTER_SH), "1", str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert "Ctrl-C stops it" in proc.stdout.readline()          # printed once everything is healthy
        pids = [int((run / "replica-1.pid").read_text()), int((run / "nginx.pid").read_text())]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while any(_cluster.pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_cluster.pid_alive(p) for p in pids) and not run.exists()
