"""rnnviz for a class of any size on one machine: N replicas of the app behind nginx (run it as deploy/cluster.sh).

    deploy/cluster.sh N PORT             start N replicas and nginx on PORT; Ctrl-C stops everything
    deploy/cluster.sh start N PORT       the same in the background: returns once every replica is healthy
    deploy/cluster.sh stop PORT          stop everything the cluster on PORT started, remove its run folder
    deploy/cluster.sh status PORT        each replica's PID, port and health
    deploy/cluster.sh restart PORT I     (re)start replica I (1 … N), e.g. after it died; waits until healthy
    deploy/cluster.sh rolling PORT       restart every replica one by one, each healthy before the next

Streamlit has no cluster of its own: a browser's session lives in one replica's memory, over one
websocket. So nginx keeps each browser on one replica with a cookie that names it (never by client
address: a lecture hall shares one campus NAT address), and all replicas share one session folder
(RNNVIZ_SESSION_DIR, rnnviz.ui.autosave). When a replica dies, its browsers' requests fail over to
the others, the cookie is rewritten to name the one that answered, and the tab's reconnecting websocket
follows it there, where the session is restored from the folder. Replica I listens on 127.0.0.1:PORT+I.

Environment: RNNVIZ_SESSION_DIR (the shared folder; default the app's own), RNNVIZ_CLUSTER_LISTEN
(nginx's address, default 127.0.0.1: set 0.0.0.0 to serve the room), RNNVIZ_CLUSTER_RUN (the run
folder, default $XDG_RUNTIME_DIR or /tmp, then rnnviz-cluster-PORT), NGINX (the nginx binary).

The run folder (0700) holds what the cluster writes: the nginx config, PID files, logs, and the cookie
secret all replicas share (0600, given to them by environment, never on a command line). Streamlit signs
its cookies with server.cookieSecret, random per process by default, so a cookie one replica signed would
be refused by another. (Read in Streamlit 1.67's Starlette server: the XSRF check compares the upload's
header with the cookie and does not use the secret, which signs st.login's cookies; one secret per
cluster keeps both right whatever a browser's cookie came from.) `stop` removes the folder; the session
folder is left alone (it is the students' work).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_REPLICAS = 64
HEALTH_TIMEOUT_S = 120          # a replica that is not healthy by then is reported and the start undone
STOP_TIMEOUT_S = 10             # SIGTERM, then SIGKILL after this long
INSTALL_HINT = "install it with: sudo apt-get install -y nginx (Debian/Ubuntu), then run this again"


class ClusterError(Exception):
    """Something the person running the cluster must fix; the message says what."""


# ---------------------------------------------------------------------------- where things are
def run_dir(port: int) -> Path:
    base = os.environ.get("RNNVIZ_CLUSTER_RUN")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"rnnviz-cluster-{port}"


def session_dir() -> Path:
    """The folder every replica shares: RNNVIZ_SESSION_DIR, else the app's own default (as autosave has it)."""
    return Path(os.environ.get("RNNVIZ_SESSION_DIR") or Path(tempfile.gettempdir()) / "rnnviz-sessions").resolve()


def find_nginx() -> str:
    """The nginx binary: $NGINX if set, else on PATH, else /usr/sbin (Debian's, often not on an
    ordinary user's PATH)."""
    if os.environ.get("NGINX"):
        cands = [os.environ["NGINX"]]
    else:
        cands = [shutil.which("nginx"), "/usr/sbin/nginx"]
    for cand in cands:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise ClusterError(f"nginx was not found ({os.environ.get('NGINX') or 'not on PATH nor in /usr/sbin'}): the "
                       f"cluster needs it as its load balancer; {INSTALL_HINT}")


def replica_command(python: str, port: int, address: str = "127.0.0.1") -> list[str]:
    """How a replica runs the app (the Dockerfile's CMD is this with port 8501 on 0.0.0.0: tests/test_deploy.py)."""
    return [python, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def replica_ports(port: int, n: int) -> list[int]:
    return [port + i for i in range(1, n + 1)]


def replica_name(i: int) -> str:
    return f"r{i}"


# ---------------------------------------------------------------------------- the nginx config
def nginx_conf(run: Path, port: int, ports: list[int], listen: str) -> str:
    """nginx in front of the replicas, with per-browser affinity by a cookie that names the replica.

    Open-source nginx has no `sticky cookie` (NGINX Plus has), and `hash $cookie consistent` sends a
    browser back to its old replica as soon as that one returns, away from the replica its websocket
    now lives on (Streamlit keeps a session's uploads and media in that replica's memory). So the cookie
    says which replica answered last, and only a failure to reach it moves the browser: every request
    goes to the replica its cookie names; a browser without one (its first request) goes round robin;
    if the named replica cannot be reached (connection refused, or no connection within 2 s), the
    request is retried on the others (error_page → @any), and every response sets the cookie to the
    replica that actually answered. The tab's reconnecting websocket then follows its health checks to
    that replica and stays there, also when the dead one comes back.
    """
    names = [replica_name(i) for i in range(1, len(ports) + 1)]
    user = ""
    if os.geteuid() == 0:
        # Started as root, nginx would run its workers as `nobody`, who cannot use the private run
        # folder (uploads over 16 KB are buffered to disk there): run them as the replicas' user.
        user = "user root;"
    pinned = "\n".join(f"        {n:<4} rnnviz_{n};" for n in names)
    served = "\n".join(f'        "~127\\.0\\.0\\.1:{p}$" {n};' for n, p in zip(names, ports, strict=True))
    # max_fails=0: never take a replica out of the group for a while after a failed connection. On
    # loopback a dead replica refuses at once, so trying it costs nothing, and a replica that was
    # marked down (nginx's default: for 10 s after one failure) is skipped even after it came back:
    # in a rolling restart both replicas were marked in turn and every request got 502 for seconds.
    any_servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
    one_each = "\n".join(f"    upstream rnnviz_{n} {{ server 127.0.0.1:{p}; }}" for n, p in zip(names, ports, strict=True))
    tmp = run / "nginx-tmp"
    return f"""# Written by deploy/cluster.py for the rnnviz cluster on port {port}; rewritten at every start.
daemon off;                  # the cluster script is its parent and stops it
master_process on;
worker_processes 1;          # one worker holds thousands of mostly idle websockets
pid {run}/nginx.pid;
error_log {run}/nginx.log warn;
{user}
events {{ worker_connections 4096; }}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 6m;     # uploads: Streamlit takes up to 5 MB (.streamlit/config.toml), plus the form

    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}

    # The replica a browser's cookie names (an unknown or missing name: any replica, round robin).
    map $cookie_rnnviz_replica $rnnviz_pinned {{
{pinned}
        default rnnviz_any;
    }}
    # The replica that answered: the last address nginx tried (after a failover it lists several).
    map $upstream_addr $rnnviz_served_by {{
{served}
        default "";
    }}

    upstream rnnviz_any {{
{any_servers}
    }}
{one_each}

    server {{
        listen {listen}:{port};
        proxy_http_version 1.1;
        # Streamlit accepts a websocket only if its Origin matches Host: pass Host through, port included.
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_connect_timeout 2s;    # a replica that does not accept within 2 s is taken as down
        proxy_read_timeout 1h;       # a websocket is quiet while its student reads
        proxy_send_timeout 1h;
        add_header Set-Cookie "rnnviz_replica=$rnnviz_served_by; Path=/; HttpOnly; SameSite=Lax" always;
        add_header X-Rnnviz-Replica $rnnviz_served_by always;   # which replica answered (tests, debugging)

        location / {{
            proxy_pass http://$rnnviz_pinned;
            error_page 502 504 = @any;
        }}
        location @any {{
            proxy_pass http://rnnviz_any;
        }}
    }}
}}
"""


# ---------------------------------------------------------------------------- processes
def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:   # a zombie (our child that exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def read_pid(path: Path, must_contain: str) -> int | None:
    """The PID in path if that process is alive and still ours (its command line has must_contain:
    a PID file outliving its process must not make us signal whoever got the number next)."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and must_contain in cmdline(pid) else None


def terminate(pid: int, timeout: float = STOP_TIMEOUT_S) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthy(port: int, timeout: float = 2.0, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=timeout) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def replica_marker(port: int) -> str:
    return f"--server.port {port} "


class Cluster:
    """The cluster on one PORT, as its run folder describes it."""

    def __init__(self, port: int):
        self.port = port
        self.run = run_dir(port)
        self.info_path = self.run / "cluster.json"

    # ------------------------------------------------------------ reading
    def info(self) -> dict:
        try:
            return json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            raise ClusterError(f"no cluster on port {self.port} (no {self.info_path})") from None

    def replica_pid(self, i: int) -> int | None:
        return read_pid(self.run / f"replica-{i}.pid", replica_marker(self.info()["ports"][i - 1]))

    def nginx_pid(self) -> int | None:
        return read_pid(self.run / "nginx.pid", str(self.run / "nginx.conf"))

    def running(self) -> bool:
        try:
            info = self.info()
        except ClusterError:
            return False
        return self.nginx_pid() is not None or any(self.replica_pid(i) for i in range(1, len(info["ports"]) + 1))

    # ------------------------------------------------------------ starting
    def start(self, n: int) -> None:
        if not 1 <= n <= MAX_REPLICAS:
            raise ClusterError(f"the number of replicas must be 1 to {MAX_REPLICAS}, not {n}")
        if not 1024 <= self.port <= 65535 - n:
            raise ClusterError(f"PORT must be 1024 to {65535 - n} (replicas use PORT+1 … PORT+{n})")
        nginx = find_nginx()
        if self.running():
            raise ClusterError(f"a cluster is already running on port {self.port}: deploy/cluster.sh stop {self.port}")
        ports = replica_ports(self.port, n)
        busy = [p for p in [self.port, *ports] if not port_free(p)]
        if busy:
            raise ClusterError(f"port(s) {', '.join(map(str, busy))} are in use: choose another PORT")
        self._make_run_dir()
        sessions = session_dir()
        listen = os.environ.get("RNNVIZ_CLUSTER_LISTEN", "127.0.0.1")
        secret = self.run / "cookie-secret"
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        self.info_path.write_text(json.dumps({"port": self.port, "ports": ports, "sessions": str(sessions),
                                              "listen": listen, "python": sys.executable, "nginx": nginx}))
        try:
            for i in range(1, n + 1):
                self.start_replica(i, wait=False)
            for i in range(1, n + 1):
                self.wait_healthy(i)
            (self.run / "nginx-tmp").mkdir(mode=0o700)
            conf = self.run / "nginx.conf"
            conf.write_text(nginx_conf(self.run, self.port, ports, listen))
            test = subprocess.run([nginx, "-t", "-q", "-p", str(self.run), "-c", str(conf), "-e", str(self.run / "nginx.log")],
                                  capture_output=True, text=True)
            if test.returncode:
                raise ClusterError(f"nginx refused its config: {(test.stderr or test.stdout).strip()[-1500:]}")
            log = (self.run / "nginx.log").open("a")
            proc = subprocess.Popen([nginx, "-p", str(self.run), "-c", str(conf), "-e", str(self.run / "nginx.log")],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            host = "127.0.0.1" if listen in ("0.0.0.0", "::", "[::]") else listen   # nginx, asked where it listens
            self._wait(lambda: healthy(self.port, host=host) or proc.poll() is not None, 15)
            if proc.poll() is not None or not healthy(self.port, host=host):
                raise ClusterError(f"nginx did not start: {self._tail('nginx.log')}")
        except BaseException:
            self.stop(quiet=True)
            raise

    def _make_run_dir(self) -> None:
        """The run folder: created 0700, or an old one of ours (a cluster that did not stop) emptied."""
        run = self.run
        try:
            os.mkdir(run, 0o700)
        except FileExistsError:
            st = os.lstat(run)
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                raise ClusterError(f"{run} exists and is not a folder of this user's: remove it or set "
                                   "RNNVIZ_CLUSTER_RUN") from None
            shutil.rmtree(run)
            os.mkdir(run, 0o700)
        os.chmod(run, 0o700)

    def start_replica(self, i: int, wait: bool = True) -> int:
        info = self.info()
        port = info["ports"][i - 1]
        env = {**os.environ,
               "RNNVIZ_REPLICA": replica_name(i),             # which replica this is (its log says it)
               "RNNVIZ_SESSION_DIR": info["sessions"],
               "STREAMLIT_SERVER_COOKIE_SECRET": (self.run / "cookie-secret").read_text().strip(),
               "OPENBLAS_NUM_THREADS": "1"}
        cmd = replica_command(info["python"], port)
        log = (self.run / f"replica-{i}.log").open("a")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        (self.run / f"replica-{i}.pid").write_text(f"{proc.pid}\n")
        if wait:
            self.wait_healthy(i)
        return proc.pid

    def wait_healthy(self, i: int) -> None:
        port = self.info()["ports"][i - 1]
        pid_file = self.run / f"replica-{i}.pid"
        pid = int(pid_file.read_text())
        self._wait(lambda: healthy(port) or not pid_alive(pid), HEALTH_TIMEOUT_S)
        if not healthy(port):
            raise ClusterError(f"replica {i} (port {port}) did not become healthy: {self._tail(f'replica-{i}.log')}")

    def _wait(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _tail(self, name: str) -> str:
        try:
            return "…" + (self.run / name).read_text(errors="replace")[-1500:]
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------ changing, stopping
    def restart(self, i: int) -> int:
        info = self.info()
        if not 1 <= i <= len(info["ports"]):
            raise ClusterError(f"replica must be 1 to {len(info['ports'])}, not {i}")
        pid = self.replica_pid(i)
        if pid is not None:
            terminate(pid)
        return self.start_replica(i)

    def rolling(self) -> None:
        for i in range(1, len(self.info()["ports"]) + 1):
            self.restart(i)
            print(f"replica {i} restarted and healthy", flush=True)

    def stop(self, quiet: bool = False) -> None:
        """Stop nginx first (no new requests reach a stopping replica), then every replica; remove the run folder."""
        if not self.run.exists():
            if not quiet:
                raise ClusterError(f"no cluster on port {self.port} (no {self.run})")
            return
        pid = self.nginx_pid()
        if pid is not None:
            terminate(pid)
        try:
            n = len(self.info()["ports"])
        except ClusterError:
            n = 0
        for i in range(1, n + 1):
            pid = self.replica_pid(i)
            if pid is not None:
                terminate(pid)
        shutil.rmtree(self.run, ignore_errors=True)

    def status(self) -> list[str]:
        info = self.info()
        lines = [f"nginx on {info['listen']}:{self.port}: pid {self.nginx_pid() or 'not running'}; "
                 f"sessions in {info['sessions']}; run folder {self.run}"]
        for i, port in enumerate(info["ports"], 1):
            pid = self.replica_pid(i)
            state = "healthy" if pid and healthy(port) else ("not answering" if pid else "not running")
            lines.append(f"replica {i} on 127.0.0.1:{port}: pid {pid or '-'}, {state}")
        return lines


# ---------------------------------------------------------------------------- command line
def usage() -> str:
    return __doc__.split("\n\n")[1]


def main(argv: list[str]) -> int:
    os.umask(0o077)        # everything the cluster writes (config, logs, PID files) is private to its user
    try:
        if len(argv) == 2 and all(a.isdigit() for a in argv):
            n, port = map(int, argv)
            return foreground(Cluster(port), n)
        if len(argv) == 3 and argv[0] == "start" and argv[1].isdigit() and argv[2].isdigit():
            c = Cluster(int(argv[2]))
            c.start(int(argv[1]))
            print(f"rnnviz cluster: {int(argv[1])} replicas behind http://{c.info()['listen']}:{c.port}/ "
                  f"(sessions in {c.info()['sessions']}); stop it with deploy/cluster.sh stop {c.port}")
            return 0
        if len(argv) == 2 and argv[0] in ("stop", "status", "rolling") and argv[1].isdigit():
            c = Cluster(int(argv[1]))
            if argv[0] == "stop":
                c.stop()
            elif argv[0] == "status":
                print("\n".join(c.status()))
            else:
                c.rolling()
            return 0
        if len(argv) == 3 and argv[0] == "restart" and argv[1].isdigit() and argv[2].isdigit():
            pid = Cluster(int(argv[1])).restart(int(argv[2]))
            print(f"replica {argv[2]} running and healthy (pid {pid})")
            return 0
    except ClusterError as e:
        print(f"deploy/cluster.sh: {e}", file=sys.stderr)
        return 2
    print(usage(), file=sys.stderr)
    return 64


def foreground(c: Cluster, n: int) -> int:
    """Start, then keep running until Ctrl-C (or `stop` from elsewhere, or nginx dying); then stop everything."""
    stopping = []
    # Ctrl-C, kill, or the terminal closing: stop everything. Set explicitly, since a process started in
    # the background of a script begins with SIGINT ignored, and Python then never raises KeyboardInterrupt.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.append(1))
    c.start(n)
    info = c.info()
    print(f"rnnviz cluster: {n} replicas behind http://{info['listen']}:{c.port}/ (sessions in {info['sessions']}); "
          "Ctrl-C stops it", flush=True)
    while not stopping and c.nginx_pid() is not None:
        time.sleep(0.5)
    print("rnnviz cluster: stopping", flush=True)
    c.stop(quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
