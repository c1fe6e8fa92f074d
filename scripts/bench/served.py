"""The app served as `make run` serves it: gunicorn with scripts/gunicorn.conf.py on a copy of a
benchmark database, a keep-alive HTTP client that signs in like a browser, and wrk."""
from __future__ import annotations

import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

from scripts.bench.common import ROOT, VENV_BIN
from scripts.bench.databases import SECRET, Workspace

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken"\s*:\s*"([^"]+)"')
FRESH = "fresh"  # a query argument the board ignores: a new value is a new screen-cache entry


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    if not m:
        raise RuntimeError("no CSRF token on the page")
    return m.group(1) or m.group(2)


def fresh_path(path: str, tag: str) -> str:
    """The same screen at a URL no one asked before: the screen cache has to draw it."""
    return f"{path}{'&' if '?' in path else '?'}{FRESH}={tag}"


class Http:
    """A keep-alive HTTP client with a cookie jar; a connection the server closed is reopened."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str]
              ) -> tuple[int, Any, bytes]:
        h = {"Host": f"127.0.0.1:{self.port}", **headers}
        if self.cookies:
            h["Cookie"] = self.cookie()
        self.conn.request(method, path, body=body, headers=h)
        resp = self.conn.getresponse()
        data = resp.read()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value and "expires=thu, 01 jan 1970" not in raw.lower():
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return resp.status, resp.headers, data

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        try:
            return self._once(method, path, body, headers or {})
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return self._once(method, path, body, headers or {})

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        return self.request("GET", path, None, headers)

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
             ) -> tuple[int, Any, bytes]:
        return self.request("POST", path, urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def close(self) -> None:
        self.conn.close()


def sign_in(port: int, username: str) -> Http:
    c = Http(port)
    token = csrf_of(c.get("/login")[2].decode())
    status, _, _ = c.post("/login", {"csrf_token": token, "username": username,
                                     "password": "demo"})
    if status != 302 or "session" not in c.cookies:
        raise RuntimeError(f"could not sign in as {username}: HTTP {status}")
    return c


class Server:
    """gunicorn -c scripts/gunicorn.conf.py (2 processes) serving scripts.bench.wsgi."""

    def __init__(self, db_file: Path, instance: Path, worker_class: str = "gevent",
                 live_wait: float | None = None):
        self.port = free_port()
        self.log = db_file.with_suffix(f".{self.port}.log")
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}",
                    "PSD_INSTANCE": str(instance), "SECRET_KEY": SECRET,
                    "PORT": f"127.0.0.1:{self.port}", "PSD_WORKER_CLASS": worker_class,
                    "PSD_ACCESS_LOG": "/dev/null", "PYTHONUNBUFFERED": "1"}
        self.env.pop("PSD_LIVE_WAIT", None)
        if live_wait is not None:
            self.env["PSD_LIVE_WAIT"] = str(live_wait)
        self.worker_class, self.db_file = worker_class, db_file
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.start()
        return self.ready()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "scripts/gunicorn.conf.py", "--pythonpath",
             str(ROOT), "scripts.bench.wsgi:bench_wsgi()"], cwd=ROOT, env=self.env,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def ready(self) -> Self:
        """Wait until it answers with both worker processes up."""
        assert self.proc
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                c = Http(self.port, timeout=2)
                status = c.get("/healthz")[0]
                c.close()
                if status == 200 and len(self.worker_pids()) >= 2:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # quick shutdown: open live waits are cut

    def wait(self) -> None:
        if self.proc:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        assert self.proc
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in kids.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers."""
        assert self.proc
        total = 0
        for pid in [self.proc.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


# ---- wrk ------------------------------------------------------------------------------------

WRK_LUA = """
wrk.method = "GET"
{headers}
{fresh}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCHJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,"
    .. "\\"p50\\":%d,\\"p95\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"status\\":%d,\\"errors\\":%d}}\\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""
FRESH_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "{path}{sep}{fresh}=" .. "{run}-" .. tostring(tid) .. "-" .. n)
end
"""
WRK_ARGS = ("-t2", "-c16")


def _machine_busy() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def wrk(server: Server, path: str, seconds: int, headers: dict[str, str] | None = None,
        fresh: bool = False) -> dict[str, float]:
    """wrk -t2 -c16 on one path (`fresh`: each request at a new `fresh=` URL): req/s, latency
    percentiles (ms), errors, KB per response, and the share of the machine's CPU that other
    processes than this harness, its server and wrk used meanwhile."""
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    more = FRESH_LUA.format(path=path, sep="&" if "?" in path else "?", fresh=FRESH,
                            run=time.monotonic_ns()) if fresh else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA.format(headers=lines, fresh=more))
    busy0, own0, srv0, t0 = _machine_busy(), _own_cpu(), server.cpu_seconds(), time.monotonic()
    out = subprocess.run(["wrk", *WRK_ARGS, f"-d{seconds}s", "--timeout", "30s", "-s", f.name,
                          f"http://127.0.0.1:{server.port}{path}"], capture_output=True,
                         text=True, check=True, timeout=seconds + 90).stdout
    others = (_machine_busy() - busy0) - (_own_cpu() - own0) - (server.cpu_seconds() - srv0)
    Path(f.name).unlink()
    found = re.search(r"BENCHJSON (\{.*\})", out)
    if not found:
        raise RuntimeError("wrk gave no result:\n" + out)
    r = json.loads(found.group(1))
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50": r["p50"] / 1000,
            "p95": r["p95"] / 1000, "p99": r["p99"] / 1000, "max": r["max"] / 1000,
            "requests": r["requests"], "bad": r["status"] + r["errors"],
            "kb": r["bytes"] / max(1, r["requests"]) / 1024,
            "other_cpu": max(0.0, others) / ((time.monotonic() - t0) * (os.cpu_count() or 1))}


def history_server(ws: Workspace, size: str) -> Server:
    """gunicorn on a copy of the small or the large history, started once per run and shared
    by the scenarios that measure through it, one after another (as a real office would)."""
    return history_servers(ws, (size,))[0]


def history_servers(ws: Workspace, sizes: tuple[str, ...] = ("small", "large")) -> list[Server]:
    """The history servers of these sizes; those not running yet are started side by side."""
    new = []
    for size in sizes:
        key = f"server-{size}"
        if key not in ws.shared:
            n = ws.sizes.history_large if size == "large" else ws.sizes.history_small
            server = ws.shared[key] = Server(ws.sqlite(key, ws.history_file(n)), ws.instance(key))
            server.start()
            ws.servers.append(server)
            new.append(server)
    for server in new:
        server.ready()
    return [ws.shared[f"server-{size}"] for size in sizes]
