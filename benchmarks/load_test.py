"""A lecture hall on one machine: N sessions against one `streamlit run app.py`, in real browsers and over the wire.

    python benchmarks/load_test.py --sessions 20                 # 30 s of load; prints Markdown tables
    python benchmarks/load_test.py --sessions 30 --players 2 --think 3
    python benchmarks/load_test.py --sessions 20 --browsers 20   # every session a Chromium page
    python benchmarks/load_test.py --sessions 60 --players 20 --think 3 --cluster 3 --kill-at 20
                                   # deploy/cluster.sh: 3 replicas behind nginx; replica 1 SIGKILLed after 20 s

Not part of the test run. It starts its own server on a free localhost port (tests/browser_support's
StreamlitServer; autosaves go to a temporary folder) and opens N Streamlit sessions of two kinds:

- browser: a Playwright context in one Debian Chromium (/usr/bin/chromium; never a downloaded browser).
  It measures what a student sees: from a Step click to the page showing the new step number.
- protocol: a client speaking Streamlit's websocket protocol as the frontend does (runs the page,
  clicks buttons by widget id, asks for the live fragment's rerun every run_every seconds while
  playing) without drawing anything. It loads the server exactly like a student whose own laptop
  keeps up, and measures from a Step click to the updated Step metric arriving.

Why both: on a 2-core machine Chromium cannot draw 20 pages of live plotly charts (one playing page
keeps a core busy on this machine), and Streamlit's play timer runs in the browser, so a starved browser
*under*-loads the server while its own slowness inflates every latency. --browsers says how many sessions
are real pages (default 2, given to stepping sessions first: a playing page keeps a core busy drawing);
the rest are protocol clients. --browsers N makes every session a page.

1. Idle: open N default sessions, no training. Server RSS before, after the first session (imports
   done) and after all N: the memory of one default session.
2. Load: browser sessions paste a short text of their own, protocol sessions load a lecture preset.
   --players sessions (default half) press Play (default speed, 20 steps/s) and keep playing; the others
   press Step over and over (a pause of about --think s between clicks), each click timed. Errors
   counted per session: a Streamlit exception, a "Sorry" message, a page crash, a lost connection, a
   Step that did not answer within --timeout s, or a player that received no new frame for as long.
3. Check: each browser session still shows only its own text (its window strip is a piece of it).

The CPU seconds of the server and of the Playwright/Chromium side are reported, and the machine's load
average before the run (other work on the machine slows everything). Every phase has a deadline, and a
watchdog ends the whole run (server included) if the total limit passes.

--cluster N runs the sessions against deploy/cluster.sh (N replicas behind nginx, one shared session
folder): every session goes through nginx, whose cookie keeps it on one replica (protocol clients keep
their cookies as a browser does). --kill-at S SIGKILLs replica 1 S seconds into the load (and restarts it
--restart-after seconds later): its sessions reconnect through nginx as Streamlit's frontend does (the
protocol clients offer their old session id, rerun with their URL, press Play again if they played) and
are restored by another replica from the folder. Per failed-over session: seconds from the kill to the
restored step shown, and steps lost (the last step seen before the kill minus the restored one). A Step
click that was in flight when its replica died is counted as lost to the failover, not as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import CHROMIUM, StreamlitServer  # noqa: E402
from cluster_support import SERVING_REPLICA_JS, Cluster  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
METRIC = '[data-testid="stMetricValue"]'
CLK_TCK = os.sysconf("SC_CLK_TCK")

WORDS = ("river stone lamp window garden winter morning letter paper candle harbour engine yellow quiet "
         "bridge signal orange marble pocket ladder thunder silver meadow basket violin forest mirror "
         "copper saddle anchor beacon cobalt falcon glacier island jasmine kettle lantern meteor nectar "
         "orchard pepper quartz rocket sparrow tundra velvet walnut zephyr").split()

# Click Step and wait, in the page, for the Step metric to show a larger number.
STEP_AND_WAIT = """async (timeoutMs) => {
    const read = () => { const m = document.querySelector('%s');
                         return m ? parseInt(m.innerText.replace(/,/g, ''), 10) : NaN; };
    const before = read();
    // The first visible one: Streamlit also keeps a hidden copy of a button that has a help tooltip.
    const btn = [...document.querySelectorAll('.st-key-btn_step button')].find(b => b.offsetParent !== null);
    if (!btn || btn.disabled) return {error: 'no Step button'};
    return await new Promise(resolve => {
        const t0 = performance.now();
        let timer = null;
        const obs = new MutationObserver(() => {
            const v = read();
            if (v > before) { obs.disconnect(); clearTimeout(timer); resolve({ms: performance.now() - t0, before, after: v}); }
        });
        obs.observe(document.body, {subtree: true, childList: true, characterData: true});
        timer = setTimeout(() => { obs.disconnect(); resolve({timeout: true, before, after: read()}); }, timeoutMs);
        btn.click();
    });
}""" % METRIC

# Count redraws of the Step metric (play frames that reached the page).
COUNT_FRAMES = """() => {
    window.__frames = 0;
    let last = null;
    new MutationObserver(() => {
        const m = document.querySelector('%s');
        const t = m && m.innerText;
        if (t && t !== last) { last = t; window.__frames += 1; }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}""" % METRIC

WINDOW_TEXT = """() => [...document.querySelectorAll('.rv-strip .rv-tok')]
    .map(d => d.querySelector('.rv-in').textContent)
    .map(s => ({'␣': ' ', '⏎': '\\n', '⇥': '\\t'})[s] || s).join('')"""

ERRORS_IN_PAGE = """() => {
    const out = [];
    if (document.querySelector('[data-testid="stException"]')) out.push('exception box');
    for (const a of document.querySelectorAll('[data-testid="stAlert"]'))
        if (a.innerText.includes('Sorry')) out.push('alert: ' + a.innerText.slice(0, 120));
    if (document.body.innerText.includes('Connection error')) out.push('connection error');
    return out;
}"""


# ---------------------------------------------------------------------------- /proc
def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_total(pids: list[int]) -> float:
    return sum(_or0(rss_mb, p) for p in pids)


def cpu_total(pids: list[int]) -> float:
    return sum(_or0(cpu_s, p) for p in pids)


def _or0(f, pid: int) -> float:
    """f(pid), or 0 for a process that is gone (a replica killed on purpose)."""
    try:
        return f(pid)
    except OSError:
        return 0.0


class Replicas:
    """K `streamlit run app.py` servers on free ports; session i talks to replica i mod K, as a load
    balancer with sticky sessions would spread a room. K = 1 is the plain single-server case."""

    def __init__(self, k: int):
        self.servers = [StreamlitServer() for _ in range(k)]
        self.pids = [srv.proc.pid for srv in self.servers]

    def url_for(self, i: int) -> str:
        return self.servers[i % len(self.servers)].url

    def stop(self) -> None:
        for srv in self.servers:
            srv.stop()

    def log_text(self) -> str:
        return "\n".join(srv.log_text() for srv in self.servers)


class ClusterServers:
    """deploy/cluster.sh with K replicas behind nginx: every session talks to nginx, which keeps it on
    one replica by cookie. pids: the replicas' (updated in place when one is restarted)."""

    def __init__(self, k: int):
        self.cluster = Cluster(k, session_dir=os.environ["RNNVIZ_SESSION_DIR"])
        self.pids = [self.cluster.pid(i) for i in range(1, k + 1)]
        self.dead: list[int] = []           # PIDs killed during the run (their CPU until then is counted)

    def url_for(self, i: int) -> str:
        return self.cluster.url

    def kill(self, i: int) -> int:
        pid = self.pids[i - 1]
        os.kill(pid, signal.SIGKILL)
        self.dead.append(pid)
        return pid

    def restart(self, i: int) -> None:
        self.cluster.restart(i)
        self.pids[i - 1] = self.cluster.pid(i)

    def stop(self) -> None:
        self.cluster.save_logs("load-cluster")
        self.cluster.stop()

    def log_text(self) -> str:
        return self.cluster.log_text()


def descendants(root: int, exclude: set[int]) -> list[int]:
    """Every live descendant of process ``root`` (the Playwright driver and Chromium), minus the trees of ``exclude``."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in exclude:
                out.append(c)
                todo.append(c)
    return out


def client_cpu_s(server_pids: list[int]) -> float:
    """CPU seconds of the load generator: this script (the protocol clients), Playwright and Chromium."""
    total = 0.0
    for pid in [os.getpid(), *descendants(os.getpid(), set(server_pids))]:
        try:
            total += cpu_s(pid)
        except OSError:
            pass
    return total


def pss_mb(pid: int) -> float:
    """Proportional set size: resident memory with shared pages split between their users, in MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def client_pss_mb(server_pids: list[int]) -> float:
    """Memory of the Playwright driver and Chromium (PSS, so shared pages are not counted many times)."""
    total = 0.0
    for pid in descendants(os.getpid(), set(server_pids)):
        try:
            total += pss_mb(pid)
        except OSError:
            pass
    return total


# ---------------------------------------------------------------------------- sessions
PRESET_CYCLE = ("Learns quickly", "Vanishing gradients", "Clipping rescues it", "Word-level")


@dataclass
class Session:
    i: int
    kind: str                             # browser (a Chromium page) | protocol (a websocket client)
    role: str                             # player (presses Play) | stepper (presses Step, timed)
    page: object = None
    ws: object = None
    text: str = ""                        # the text a browser session pasted
    errors: list[str] = field(default_factory=list)
    js_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    steps_start: int = 0
    steps_end: int = 0
    frames: int = 0
    replica: int | None = None            # the replica serving it when one was killed (cluster runs)
    failover: bool = False                # its replica was killed and it has not been restored yet
    reconnect_s: float | None = None      # from the kill to the restored step shown
    steps_lost: int | None = None         # the last step seen before the kill − the restored step
    lost_clicks: int = 0                  # Step clicks in flight when its replica died

    @property
    def opened(self) -> bool:
        return self.page is not None or self.ws is not None

    @property
    def ok(self) -> bool:
        return self.opened and not self.errors

    def error(self, what: str) -> None:
        if what not in self.errors:
            self.errors.append(what)


def session_text(i: int) -> str:
    """A short text of its own for session i: seeded random words, ~500 characters."""
    rng = random.Random(1000 + i)
    words = [rng.choice(WORDS) for _ in range(70)]
    return f"Session {i:02d} writes: " + " ".join(words) + ".\n"


def progress(msg: str) -> None:
    """Where the run is, on stderr (the tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def err_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:120]}" if text else type(e).__name__


# ---------------------------------------------------------------------------- browser sessions
async def step_value(page) -> int:
    t = await page.locator(METRIC).first.inner_text()
    return int(t.replace(",", ""))


async def wait_idle(page, timeout_ms: float) -> None:
    await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                 timeout=timeout_ms)


async def open_page(browser, url: str, s: Session, timeout_ms: float) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    # Keep every request on this machine: anything not for the local server is refused.
    await ctx.route(re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)[:/]).*"), lambda route: route.abort())
    page = await ctx.new_page()
    page.set_default_timeout(timeout_ms)
    page.on("crash", lambda *_: s.error("page crash"))
    page.on("pageerror", lambda *_: setattr(s, "js_errors", s.js_errors + 1))
    await page.goto(url)
    await page.wait_for_selector(METRIC)
    await wait_idle(page, timeout_ms)
    s.page = page


async def paste(s: Session, timeout_ms: float) -> None:
    page = s.page
    await page.get_by_text("Text ·").first.click()
    area = page.get_by_label("…or paste your own text")
    await area.fill(s.text)
    await area.press("Control+Enter")
    await wait_idle(page, timeout_ms)
    await page.get_by_role("button", name="Train on this text").click()
    await page.get_by_role("heading", name="Your pasted text").wait_for()
    await wait_idle(page, timeout_ms)


async def check_page(s: Session) -> None:
    try:
        for e in await s.page.evaluate(ERRORS_IN_PAGE):
            s.error(e)
    except Exception as e:  # a crashed or closed page
        s.error(f"page unreadable ({type(e).__name__})")


async def page_step(s: Session, timeout_s: float) -> float | None:
    """One Step click in the page: ms until the page shows the new step, or None (error recorded)."""
    try:
        r = await asyncio.wait_for(s.page.evaluate(STEP_AND_WAIT, timeout_s * 1000), timeout_s + 10)
    except Exception as e:
        r = {"error": f"step failed ({err_line(e)})"}
    if (r.get("error") or r.get("timeout")) and s.failover:
        s.lost_clicks += 1          # its replica died during the click: the tab reconnects by itself
        return None
    if r.get("error") or r.get("timeout"):
        s.error(r.get("error") or f"Step did not update within {timeout_s:g} s")
        return None
    return r["ms"]


# ---------------------------------------------------------------------------- protocol sessions
class WsClient:
    """A Streamlit session without a browser: Streamlit's websocket protocol, spoken as its frontend does.

    It runs the app's default page, clicks buttons by the widget ids the server sent (a click on a
    button inside a fragment reruns that fragment, as in the browser), and while playing asks for a
    rerun of the live fragment every run_every seconds (the frontend's timer). It reads the Step
    metric from the deltas; an exception element, a "Sorry" alert or a lost connection is an error,
    except while its replica is being killed (Session.failover): then it reconnects as the frontend
    does (health check through the balancer with its cookies, a new websocket offering its old session
    id, a rerun with its URL's query) and presses Play again if it played."""

    def __init__(self, s: Session, url: str):
        self.s = s
        self.http = url
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.cookies: dict[str, str] = {}               # as a browser keeps them (affinity, XSRF)
        self.conn = None
        self.reader = None
        self.query = ""
        self.page_hash = ""
        self.session_id = ""
        self.buttons: dict[str, tuple[str, str]] = {}   # label → (widget id, fragment id or "")
        self.auto = None                                # (interval, fragment id) once playing
        self.step = None
        self.finished = 0
        self.last_frame = time.monotonic()                # when the Step metric last changed
        self.frames = 0
        self.connected = asyncio.Event()
        self.epoch = 0                                    # connections so far
        self.playing = False

    async def open(self, timeout_s: float) -> None:
        await self._connect(timeout_s)
        await self._until(lambda: self.finished >= 1 and self.step is not None and "Play" in self.buttons, timeout_s)

    async def _connect(self, timeout_s: float) -> None:
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._health)
        protocols = ["streamlit"]
        if self.cookies.get("_streamlit_xsrf"):
            protocols.append(self.cookies["_streamlit_xsrf"])
            if self.session_id:
                protocols.append(self.session_id)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        self.conn = await connect(self.url, subprotocols=protocols, max_size=None, open_timeout=timeout_s,
                                  additional_headers=headers)
        self.epoch += 1
        self.buttons, self.auto, self.finished = {}, None, 0
        self.reader = asyncio.create_task(self._read(self.conn))
        self.connected.set()
        await self._rerun()

    def _health(self) -> None:
        """GET /_stcore/health with this session's cookies, keeping the ones the answer sets (nginx's
        affinity cookie names the replica that answered; Streamlit sets its XSRF cookie)."""
        req = urllib.request.Request(self.http + "/_stcore/health")
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()
            for header in r.headers.get_all("Set-Cookie") or []:
                for k, morsel in SimpleCookie(header).items():
                    self.cookies[k] = morsel.value

    @property
    def replica(self) -> int | None:
        name = self.cookies.get("rnnviz_replica", "")
        return int(name[1:]) if name.startswith("r") else None

    async def reconnect(self, killed_at: float, timeout_s: float) -> None:
        """After the replica died: reconnect through the balancer and wait for the restored step."""
        before = self.step_value()
        self.step = None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                await self._connect(timeout_s)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)
        await self._until(lambda: self.step is not None and "Play" in self.buttons, timeout_s)
        self.s.reconnect_s = time.monotonic() - killed_at
        self.s.steps_lost = max(0, before - self.step_value())   # a click shown after `before` was read: 0
        self.last_frame = time.monotonic()
        if self.playing:
            await self.play(timeout_s)

    async def click(self, label: str, timeout_s: float) -> None:
        """Click a button and wait for the run it starts to finish."""
        before = self.finished
        wid, fragment = self.buttons[label]
        await self._rerun(trigger=wid, fragment_id=fragment)
        await self._until(lambda: self.finished > before, timeout_s)

    async def play(self, timeout_s: float) -> None:
        wid, fragment = self.buttons["Play"]
        await self._rerun(trigger=wid, fragment_id=fragment)
        await self._until(lambda: self.auto is not None, timeout_s)
        self.playing = True
        self.last_frame = time.monotonic()   # from now on, frames must keep coming

    async def keep_playing(self, until: float, timeout_s: float) -> None:
        while time.monotonic() < until and not self.s.errors:
            if self.s.failover or self.auto is None:
                await asyncio.sleep(0.1)
                self.last_frame = time.monotonic()
                continue
            interval, fragment = self.auto  # re-read: the app may slow its timer down under load
            try:
                await self._rerun(fragment_id=fragment, is_auto_rerun=True)
            except Exception:
                if not self.s.failover:
                    raise
            await asyncio.sleep(interval)
            if time.monotonic() - self.last_frame > timeout_s and not self.s.failover:
                self.s.error(f"no play frame arrived for {timeout_s:g} s")

    async def step_once(self, timeout_s: float) -> float | None:
        """One Step click: ms until the new step number arrives, or None (error recorded, or the click
        was lost because its replica died: Session.lost_clicks)."""
        before, epoch = self.step_value(), self.epoch
        wid, fragment = self.buttons["Step"]
        t0 = time.perf_counter()
        try:
            await self._rerun(trigger=wid, fragment_id=fragment)
            await self._until(lambda: self.step_value() > before or self.s.failover, timeout_s)
        except Exception as e:
            if self.s.failover or self.epoch != epoch:
                self.s.lost_clicks += 1
                return None
            self.s.error(f"Step did not update within {timeout_s:g} s" if isinstance(e, TimeoutError) else err_line(e))
            return None
        if self.s.failover or self.epoch != epoch:
            self.s.lost_clicks += 1
            return None
        return (time.perf_counter() - t0) * 1e3

    async def close(self) -> None:
        if self.reader:
            self.reader.cancel()
        if self.conn:
            await self.conn.close()

    def step_value(self) -> int:
        return int((self.step or "0").replace(",", ""))

    async def _until(self, cond, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            if self.s.errors or time.monotonic() > deadline:
                raise TimeoutError("the app did not answer")
            await asyncio.sleep(0.005)

    def _rerun(self, trigger: str | None = None, **kw):
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_script_hash = self.query, self.page_hash
        for k, v in kw.items():
            setattr(cs, k, v)
        if trigger:
            w = cs.widget_states.widgets.add()
            w.id, w.trigger_value = trigger, True
        return self.conn.send(msg.SerializeToString())

    async def _read(self, conn) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for data in conn:
                f = ForwardMsg()
                f.ParseFromString(data)
                kind = f.WhichOneof("type")
                if kind == "new_session":
                    self.page_hash = f.new_session.page_script_hash
                    self.session_id = f.new_session.initialize.session_id or self.session_id
                elif kind == "page_info_changed":
                    self.query = f.page_info_changed.query_string
                elif kind == "script_finished":
                    self.finished += 1
                elif kind == "auto_rerun":
                    if f.auto_rerun.interval < 60:        # the live panel's timer, not rnnviz.ui.reconnect's
                        self.auto = (f.auto_rerun.interval, f.auto_rerun.fragment_id)
                elif kind == "delta" and f.delta.WhichOneof("type") == "new_element":
                    el = f.delta.new_element
                    what = el.WhichOneof("type")
                    if what == "button":
                        self.buttons[el.button.label] = (el.button.id, f.delta.fragment_id)
                    elif what == "metric" and el.metric.label == "Step":
                        if el.metric.body != self.step:
                            self.frames += 1
                            self.last_frame = time.monotonic()
                        self.step = el.metric.body
                    elif what == "exception":
                        self.s.error(f"exception: {el.exception.message[:120]}")
                    elif what == "alert" and "Sorry" in el.alert.body:
                        self.s.error(f"alert: {el.alert.body[:120]}")
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if conn is self.conn and not self.s.failover:
                self.s.error(f"connection lost ({err_line(e)})")
        else:
            if conn is self.conn and not self.s.failover:
                self.s.error("connection closed by the server")
        if conn is self.conn:
            self.connected.clear()


# ---------------------------------------------------------------------------- the run
def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


async def bounded(coros, limit: int):
    """Run coroutines at most ``limit`` at a time; exceptions are returned, not raised."""
    sem = asyncio.Semaphore(limit)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def stepper(s: Session, until: float, think_s: float, timeout_s: float) -> None:
    """Click Step, wait for the update, pause, repeat until ``until`` (or the first error)."""
    rng = random.Random(s.i)
    await asyncio.sleep(rng.uniform(0, think_s))        # students do not click in lockstep
    while time.monotonic() < until and s.ok:
        if s.failover:                                  # its replica died: wait until it is restored
            await asyncio.sleep(0.1)
            continue
        ms = await (page_step(s, timeout_s) if s.kind == "browser" else s.ws.step_once(timeout_s))
        if ms is None:
            if s.errors:
                return
            continue                                    # a click lost to the failover
        s.latencies.append(ms)
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def failover(args, server: ClusterServers, sessions: list[Session], report: dict) -> None:
    """--kill-at: SIGKILL replica 1, wait until each of its sessions is restored elsewhere (restart the
    replica --restart-after seconds after the kill)."""
    await asyncio.sleep(args.kill_at)
    victims, before = [], {}
    for s in sessions:
        if not s.ok:
            continue
        try:
            if s.kind == "protocol":
                s.replica = s.ws.replica
            else:
                s.replica = int((await s.page.evaluate(SERVING_REPLICA_JS))[1:])
                before[s.i] = await step_value(s.page)
        except Exception as e:
            s.error(f"replica unknown ({err_line(e)})")
            continue
        if s.replica == 1:
            victims.append(s)
            s.failover = True
    report["replica_sessions"] = [sum(1 for s in sessions if s.replica == r) for r in range(1, args.cluster + 1)]
    progress(f"killing replica 1 (pid {server.pids[0]}): {len(victims)} sessions on it")
    t_kill = time.monotonic()
    server.kill(1)
    report["killed"] = victims

    async def restored(s: Session) -> None:
        try:
            if s.kind == "protocol":
                await s.ws.reconnect(t_kill, args.timeout * 4)
            else:
                await s.page.get_by_text("this tab reconnected").first.wait_for(timeout=args.timeout * 4000)
                s.reconnect_s = time.monotonic() - t_kill
                await wait_idle(s.page, args.timeout * 4000)
                s.steps_lost = max(0, before[s.i] - await step_value(s.page))
                if s.role == "player":
                    await s.page.locator(".st-key-btn_play button:visible").click(timeout=args.timeout * 2000)
        except Exception as e:
            s.error(f"not restored after its replica died ({err_line(e)})")
        finally:
            s.failover = False

    async def restart() -> None:
        await asyncio.sleep(args.restart_after)
        t0 = time.monotonic()
        await asyncio.to_thread(server.restart, 1)
        report["restart_s"] = time.monotonic() - t0
        progress(f"replica 1 restarted (healthy after {report['restart_s']:.1f} s)")

    await asyncio.gather(restart(), *(restored(s) for s in victims))


async def run(args, server: Replicas | ClusterServers, report: dict) -> None:
    from playwright.async_api import async_playwright

    pids = server.pids
    timeout_ms = args.timeout * 1000 * 4          # page actions (open, paste) get more slack than a Step
    n = args.sessions
    # Roles alternate (player, stepper, …) while both are left; the rest take the role that remains.
    # The Chromium pages (--browsers) go to steppers first: a playing page keeps a core of this machine
    # busy drawing, a stepping page only draws when it clicks.
    k = min(args.players, n - args.players)
    roles = ["player", "stepper"] * k + ["player" if args.players > n - args.players else "stepper"] * (n - 2 * k)
    order = sorted(range(n), key=lambda i: (roles[i] != "stepper", i))
    in_browser = set(order[: args.browsers])
    sessions = [Session(i, "browser" if i in in_browser else "protocol", role) for i, role in enumerate(roles)]
    players = [s for s in sessions if s.role == "player"]
    steppers = [s for s in sessions if s.role == "stepper"]
    report["rss_start"] = rss_total(pids)
    report["rss_replicas_start"] = [_or0(rss_mb, p) for p in pids]

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        async def open_one(s: Session) -> None:
            try:
                if s.kind == "browser":
                    await open_page(browser, server.url_for(s.i), s, timeout_ms)
                else:
                    s.ws = WsClient(s, server.url_for(s.i))
                    await s.ws.open(timeout_ms / 1000)
            except Exception as e:
                s.error(f"open failed ({err_line(e)})")

        try:
            # ---- phase 1: N idle default sessions
            t0 = time.monotonic()
            await open_one(sessions[0])
            await asyncio.sleep(1)
            report["rss_one"] = rss_total(pids)
            await bounded([open_one(s) for s in sessions[1:]], 4)
            report["open_s"] = time.monotonic() - t0
            await asyncio.sleep(3)  # let the last reruns finish and the allocator settle
            report["rss_idle"] = rss_total(pids)
            report["rss_replicas_idle"] = [_or0(rss_mb, p) for p in pids]
            report["opened"] = sum(1 for s in sessions if s.ok)
            progress(f"phase 1: {report['opened']}/{n} idle sessions open in {report['open_s']:.0f} s, "
                     f"server RSS {report['rss_idle']:.0f} MB")

            # ---- phase 2: a text of their own (browsers) or a preset (protocol); then some play, the others step
            async def own_text(s: Session) -> None:
                try:
                    if s.kind == "browser":
                        s.text = session_text(s.i)
                        await paste(s, timeout_ms)
                    else:
                        await s.ws.click(PRESET_CYCLE[s.i % len(PRESET_CYCLE)], args.timeout)
                except Exception as e:
                    s.error(f"text or preset failed ({err_line(e)})")

            t0 = time.monotonic()
            await bounded([own_text(s) for s in sessions if s.ok], 4)
            report["paste_s"] = time.monotonic() - t0
            await asyncio.sleep(2)
            report["rss_texts"] = rss_total(pids)
            progress(f"phase 2: texts and presets loaded in {report['paste_s']:.0f} s; playing and stepping "
                     f"for {args.seconds:g} s")

            for s in players:
                if not s.ok:
                    continue
                try:
                    if s.kind == "browser":
                        await s.page.evaluate(COUNT_FRAMES)
                        s.steps_start = await step_value(s.page)
                        await s.page.locator(".st-key-btn_play button:visible").click(timeout=args.timeout * 2000)
                        await s.page.locator(".st-key-btn_pause button:visible").wait_for(timeout=args.timeout * 2000)
                    else:
                        await s.ws.play(args.timeout)
                        s.steps_start, s.frames = s.ws.step_value(), s.ws.frames
                except Exception as e:
                    s.error(f"play failed ({err_line(e)})")

            cpu0 = {p: cpu_s(p) for p in pids}       # per PID: a replica may be killed and restarted
            cpu_seen = dict(cpu0)
            cli_cpu0, t_load0 = client_cpu_s(pids), time.monotonic()
            until = time.monotonic() + args.seconds
            rss_samples = []
            report["rss_replicas_loaded"] = [_or0(rss_mb, p) for p in pids]

            async def sample_rss():
                while time.monotonic() < until:
                    rss_samples.append(rss_total(pids))
                    for p in pids:
                        cpu_seen[p] = max(cpu_seen.get(p, 0.0), _or0(cpu_s, p))
                    await asyncio.sleep(2)

            await asyncio.gather(
                sample_rss(),
                *([failover(args, server, sessions, report)] if args.kill_at is not None else []),
                *(stepper(s, until, args.think, args.timeout) for s in steppers if s.ok),
                *(s.ws.keep_playing(until, args.timeout) for s in players if s.kind == "protocol" and s.ok))
            load_s = time.monotonic() - t_load0
            for p in pids:
                cpu_seen[p] = max(cpu_seen.get(p, 0.0), _or0(cpu_s, p))
            report["server_cpu"] = sum(c - cpu0.get(p, 0.0) for p, c in cpu_seen.items()) / load_s
            report["server_cpu_per_replica"] = [(cpu_seen.get(p, 0.0) - cpu0.get(p, 0.0)) / load_s for p in pids]
            report["client_cpu"] = (client_cpu_s(pids) - cli_cpu0) / load_s
            report["load_s"] = load_s
            report["rss_peak"] = max(rss_samples + [rss_total(pids)])
            report["rss_end"] = rss_total(pids)
            report["rss_replicas_end"] = [_or0(rss_mb, p) for p in pids]
            report["client_mem"] = client_pss_mb(pids)
            progress("phase 3: pausing and checking every session")

            for s in players:
                if not s.ok:
                    continue
                try:
                    if s.kind == "browser":
                        s.frames = await s.page.evaluate("() => window.__frames || 0")
                        s.steps_end = await step_value(s.page)
                        await s.page.locator(".st-key-btn_pause button:visible").click(timeout=args.timeout * 2000)
                        await s.page.locator(".st-key-btn_play button:visible").wait_for(timeout=args.timeout * 2000)
                    else:
                        s.steps_end, s.frames = s.ws.step_value(), s.ws.frames - s.frames
                except Exception as e:
                    s.error(f"pause failed ({err_line(e)})")

            # ---- phase 3: every page still healthy and showing only its own text
            leaks = 0
            for s in sessions:
                if s.page is None:
                    continue
                await check_page(s)
                if s.text and not s.errors:
                    try:
                        window = await s.page.evaluate(WINDOW_TEXT)
                        heading = await s.page.get_by_role("heading", level=3).first.inner_text()
                    except Exception as e:
                        s.error(f"page unreadable ({err_line(e)})")
                        continue
                    if window not in s.text * 2 or "Your pasted text" not in heading:
                        leaks += 1
                        s.error(f"shows text that is not its own: {window!r}")
            report["leaks"] = leaks
            report["checked"] = sum(1 for s in sessions if s.text)
        finally:
            for s in sessions:
                if s.ws is not None:
                    await s.ws.close()
            await browser.close()
    report["sessions"] = sessions


def print_report(args, report: dict, server_log: str) -> None:
    sessions: list[Session] = report["sessions"]
    n = args.sessions
    players = [s for s in sessions if s.role == "player"]
    steppers = [s for s in sessions if s.role == "stepper"]
    failed = [s for s in sessions if s.errors]
    tracebacks = server_log.count("Traceback")
    per_default = (report["rss_idle"] - report["rss_start"]) / n
    marginal = (report["rss_idle"] - report["rss_one"]) / max(n - 1, 1)
    per_active = (report["rss_end"] - report["rss_start"]) / n
    ok = lambda c: "✅" if c else "❌"  # noqa: E731
    count = lambda ss, kind: sum(1 for s in ss if s.kind == kind)  # noqa: E731

    if args.cluster:
        servers = f"deploy/cluster.sh: {args.cluster} replicas behind nginx (cookie affinity; memory and CPU summed)"
    else:
        servers = "one server" if args.replicas == 1 else f"{args.replicas} server replicas (round robin; memory and CPU summed)"
    print(f"\n### Load test: {n} sessions on {servers} for {args.seconds:g} s: {len(players)} playing "
          f"({count(players, 'browser')} in Chromium, {count(players, 'protocol')} protocol clients), "
          f"{len(steppers)} stepping ({count(steppers, 'browser')} in Chromium, {count(steppers, 'protocol')} "
          f"protocol clients)\n")
    print(f"Machine: {os.cpu_count()} cores, load average {report['loadavg']} before the run (other work on the "
          f"machine included); server, Chromium and the protocol clients all on it.\n")
    print("| Measure | Value | Target |")
    print("|---|---|---|")
    print(f"| Sessions started | {report.get('opened', 0)} of {n} (opened in {report.get('open_s', 0):.0f} s; texts and "
          f"presets loaded in {report.get('paste_s', 0):.0f} s) | {n} |")
    print(f"| Sessions with an error | {len(failed)} | 0 {ok(not failed)} |")
    print(f"| Sessions showing another session's text | {report.get('leaks', 'n/a')} of {report.get('checked', 0)} "
          f"checked | 0 {ok(report.get('leaks') == 0)} |")
    print(f"| Server tracebacks in its log | {tracebacks} | 0 {ok(tracebacks == 0)} |")
    if not steppers:
        print("| Step clicks | none: every session plays (--players) | |")
    for kind, what in (("browser", "Step click → page shows the new step (Chromium)"),
                       ("protocol", "Step click → new step number received (protocol)")):
        lat = [x for s in steppers if s.kind == kind for x in s.latencies]
        if not count(steppers, kind):
            continue
        print(f"| {what}: p50 / p95 / max | {pct(lat, 50):.0f} / {pct(lat, 95):.0f} / "
              f"{max(lat, default=float('nan')):.0f} ms ({len(lat)} clicks) | p95 ≤ 2000 ms {ok(pct(lat, 95) <= 2000)} |")
    for kind in ("browser", "protocol"):
        ps = [s for s in players if s.kind == kind and not s.errors]
        if ps:
            rate = [(s.steps_end - s.steps_start) / report["load_s"] for s in ps]
            frames = [s.frames / report["load_s"] for s in ps]
            print(f"| Playing, {kind}: steps/s and redraws/s each (median; min) | {statistics.median(rate):.1f} and "
                  f"{statistics.median(frames):.1f}; {min(rate):.1f} and {min(frames):.1f} | 20 and 10 |")
    print(f"| Server CPU during the load | {100 * report['server_cpu']:.0f} % of one core | |")
    print(f"| Load generator CPU (Chromium, Playwright, protocol clients) | {100 * report['client_cpu']:.0f} % of one "
          f"core | |")
    print()
    print("| Server memory (RSS) | MB |")
    print("|---|---|")
    print(f"| At start, 0 sessions | {report['rss_start']:.0f} |")
    print(f"| After 1 default session (imports done) | {report['rss_one']:.0f} |")
    print(f"| After {n} idle default sessions | {report['rss_idle']:.0f} |")
    print(f"| After each loaded its own text or preset | {report['rss_texts']:.0f} |")
    print(f"| Peak during the load | {report['rss_peak']:.0f} |")
    print(f"| At the end ({n} sessions, trained) | {report['rss_end']:.0f} |")
    print(f"| **Per default session**: (idle {n} − start) / {n} | **{per_default:.1f}** (target ≤ 50 {ok(per_default <= 50)}) |")
    print(f"| Per default session, marginal: (idle {n} − 1 session) / {n - 1} | {marginal:.1f} |")
    print(f"| Per trained session at the end: (end − start) / {n} | {per_active:.1f} |")
    print(f"| Chromium with {count(sessions, 'browser')} pages (PSS), for reference | {report['client_mem']:.0f} |")
    k = len(report.get("rss_replicas_start", []))
    if k > 1:
        print("\n| Replica | RSS at start | idle sessions open | at the end | CPU during the load (% of a core) |")
        print("|---|---|---|---|---|")
        for r in range(k):
            print(f"| {r + 1} | {report['rss_replicas_start'][r]:.0f} MB | {report['rss_replicas_idle'][r]:.0f} MB | "
                  f"{report['rss_replicas_end'][r]:.0f} MB | {100 * report['server_cpu_per_replica'][r]:.0f} |")
    if "killed" in report:
        victims: list[Session] = report["killed"]
        print(f"\nReplica 1 was SIGKILLed {args.kill_at:g} s into the load and restarted {args.restart_after:g} s later "
              f"(healthy after {report.get('restart_s', float('nan')):.1f} s); sessions per replica then: "
              f"{report.get('replica_sessions')}.\n")
        print("| Sessions on the killed replica | restored | seconds from the kill to the restored step: median / max | "
              "steps lost: each | Step clicks in flight, lost |")
        print("|---|---|---|---|---|")
        for kind, role in (("protocol", "stepper"), ("protocol", "player"), ("browser", "stepper"), ("browser", "player")):
            vs = [v for v in victims if v.kind == kind and v.role == role]
            if not vs:
                continue
            back = [v for v in vs if v.reconnect_s is not None and not v.errors]
            secs = [v.reconnect_s for v in back]
            lost = sorted((v.steps_lost for v in back), reverse=True)
            print(f"| {len(vs)} {kind} {role}s | {len(back)} of {len(vs)} | "
                  f"{statistics.median(secs) if secs else float('nan'):.1f} / {max(secs, default=float('nan')):.1f} | "
                  f"{', '.join(map(str, lost)) or '-'} | {sum(v.lost_clicks for v in vs)} |")
    if failed:
        print("\nSessions with errors:\n")
        for s in failed:
            print(f"- session {s.i} ({s.role}, {s.kind}): {'; '.join(s.errors)}")
    js = sum(s.js_errors for s in sessions)
    if js:
        print(f"\n(JavaScript errors reported by the pages: {js}.)")


def watchdog(limit_s: float, server: Replicas | ClusterServers) -> None:
    """End everything if the run overstays its limit (a hung browser must not hang the script)."""
    def fire():
        print(f"\nload test: time limit of {limit_s:.0f} s passed; stopping.", file=sys.stderr, flush=True)
        server.stop()
        os._exit(2)

    t = threading.Timer(limit_s, fire)
    t.daemon = True
    t.start()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="sessions in all (default 20)")
    ap.add_argument("--seconds", type=float, default=30, help="seconds of load: playing and stepping (default 30)")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a session's Step clicks, s (default 1)")
    ap.add_argument("--timeout", type=float, default=15, help="a Step that has not updated after this many s is an error")
    ap.add_argument("--players", type=int, default=None,
                    help="how many sessions press Play (default half); the others press Step")
    ap.add_argument("--browsers", type=int, default=2,
                    help="how many sessions are Chromium pages (default 2, stepping sessions first); the rest are "
                         "protocol clients. --browsers N makes every session a page (Chromium then needs the CPU)")
    ap.add_argument("--replicas", type=int, default=1,
                    help="servers to spread the sessions over, round robin (default 1); see README, Serving a lecture hall")
    ap.add_argument("--cluster", type=int, default=0,
                    help="run against deploy/cluster.sh with this many replicas behind nginx (needs nginx)")
    ap.add_argument("--kill-at", type=float, default=None,
                    help="with --cluster: SIGKILL replica 1 this many seconds into the load")
    ap.add_argument("--restart-after", type=float, default=5.0,
                    help="with --kill-at: restart the killed replica this many seconds after the kill (default 5)")
    args = ap.parse_args()
    if args.sessions < 1 or args.replicas < 1:
        ap.error("--sessions and --replicas must be at least 1")
    if args.cluster and args.replicas != 1:
        ap.error("--cluster and --replicas are two ways to have several servers: choose one")
    if args.kill_at is not None and args.cluster < 2:
        ap.error("--kill-at needs --cluster 2 or more (another replica must take over)")
    args.browsers = max(0, min(args.browsers, args.sessions))
    args.players = args.sessions // 2 if args.players is None else max(0, min(args.players, args.sessions))
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")

    saves = tempfile.mkdtemp(prefix="rnnviz-load-sessions-")
    os.environ["RNNVIZ_SESSION_DIR"] = saves  # the server inherits it: autosaves of this run go there
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    report = {"loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    limit = 300 + args.sessions * 30 + args.seconds + (60 if args.kill_at is not None else 0)
    server = ClusterServers(args.cluster) if args.cluster else Replicas(args.replicas)
    watchdog(limit, server)
    try:
        asyncio.run(asyncio.wait_for(run(args, server, report), limit - 30))
        print_report(args, report, server.log_text())
    finally:
        server.stop()
        shutil.rmtree(saves, ignore_errors=True)


if __name__ == "__main__":
    main()
