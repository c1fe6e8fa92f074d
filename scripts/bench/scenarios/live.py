"""Change to screen: N clients hold `/live/?since=N` open against gunicorn's 2 processes; a
supervisor reassigns a dispatched slip with the form on its board card, again and again;
each client's answer is timed from the POST (sent and answered), then its board partial
fetched as htmx would."""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
from typing import Any

from scripts.bench.common import log, pct
from scripts.bench.databases import Workspace
from scripts.bench.served import Http, csrf_of, history_server, sign_in

TARGET_P95_S = 1.0


class Waiter(threading.Thread):
    """One open screen: waits on /live/; on a change fetches the partial like htmx does."""

    def __init__(self, port: int, cookies: dict[str, str], partial: str | None, since: int):
        super().__init__(daemon=True)
        self.c = Http(port, cookies)
        self.partial, self.since = partial, since
        self.parked = threading.Event()
        self.answers: list[tuple[float, float | None]] = []
        self.requests = self.bytes = 0
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            self.parked.set()
            try:
                status, headers, body = self.c.get(f"/live/?since={self.since}",
                                                   {"Accept": "application/json"})
            except (OSError, http.client.HTTPException):
                if self.stop:
                    return
                status, headers, body = 0, {}, b""
            t_answer = time.perf_counter()
            self.parked.clear()
            self.requests += 1
            self.bytes += len(body) + sum(len(k) + len(v) + 4 for k, v in headers.items())
            if status != 200:
                time.sleep(0.5)
                continue
            stamp = json.loads(body)["stamp"]
            if stamp != self.since:
                t_screen = None
                if self.partial and self.c.get(self.partial, {"HX-Request": "true"})[0] == 200:
                    t_screen = time.perf_counter()
                self.answers.append((t_answer, t_screen))
                self.since = stamp


def current_stamp(port: int, cookies: dict[str, str]) -> int:
    c = Http(port, cookies)
    stamp = json.loads(c.get("/live/?since=-1")[2])["stamp"]
    c.close()
    return stamp


def reassign_form(html: str) -> tuple[str, dict[str, str], str, list[str]] | None:
    """The first reassign form on the board: action, hidden fields, select name, worker ids."""
    for m in re.finditer(r'<details class="reassign"[^>]*>.*?(<form\b.*?</form>)', html, re.DOTALL):
        form = m.group(1)
        action = re.search(r'action="([^"]+)"', form)
        choice = re.search(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.DOTALL)
        if not action or not choice:
            continue
        fields = {}
        for tag in re.findall(r"<input[^>]*>", form):
            field, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if 'type="hidden"' in tag and field:
                fields[field.group(1)] = value.group(1) if value else ""
        fields.setdefault("csrf_token", csrf_of(html))
        ids = re.findall(r'<option[^>]*value="(\d+)"', choice.group(2))
        if ids:
            return action.group(1).replace("&amp;", "&"), fields, choice.group(1), ids
    return None


def change(sup: Http) -> tuple[float, float, str]:
    """One reassign, as the board sees it now: perf_counter() when sent and when answered."""
    form = reassign_form(sup.get("/supervise/")[2].decode())
    if form is None:
        raise RuntimeError("no reassign form on the board")
    action, fields, name, ids = form
    sent = time.perf_counter()
    # The reason is needed once the worker is at the door; the board may show such a card first.
    status = sup.post(action, {**fields, name: ids[0], "note": "bench: reassigned"},
                      {"HX-Request": "true"})[0]
    if status >= 400:
        raise RuntimeError(f"POST {action}: HTTP {status}")
    return sent, time.perf_counter(), action


def propagate(port: int, sup: Http, waiters: list[Waiter]) -> dict[str, Any]:
    """One change; each waiter's answer against it (None: not heard within 5 s)."""
    deadline = time.monotonic() + 10
    while not all(w.parked.is_set() for w in waiters) and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # let the server take each wait up
    before = [len(w.answers) for w in waiters]
    sent, answered, action = change(sup)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(len(w.answers) == n
                                              for w, n in zip(waiters, before)):
        time.sleep(0.002)
    heard = [w.answers[n] for w, n in zip(waiters, before) if len(w.answers) > n]
    return {"action": action, "missed": len(waiters) - len(heard),
            "answer": [t - answered for t, _s in heard], "from_sent": [t - sent for t, _s in heard],
            "screen": [s - sent for _t, s in heard if s is not None]}


def run(ws: Workspace) -> dict[str, Any]:
    sizes = ws.sizes
    server = history_server(ws, "large")
    sup = sign_in(server.port, "supervisor")
    cookies = dict(sup.cookies)
    since = current_stamp(server.port, cookies)
    waiters = [Waiter(server.port, cookies, "/supervise/", since)
               for _ in range(sizes.propagation_clients)]
    for w in waiters:
        w.start()
    rounds = [propagate(server.port, sup, waiters) for _ in range(sizes.propagation_changes)]
    for w in waiters:
        w.stop = True
    series = {key: [x for r in rounds for x in r[key]] for key in ("answer", "from_sent", "screen")}
    series["worst"] = [max(r["answer"]) for r in rounds if r["answer"]]
    out = {"clients": sizes.propagation_clients, "changes": sizes.propagation_changes,
           "how": rounds[0]["action"], "missed": sum(r["missed"] for r in rounds),
           "target_p95_s": TARGET_P95_S,
           **{key: {"p50": pct(v, 50), "p95": pct(v, 95), "max": max(v, default=float("nan")),
                    "n": len(v)} for key, v in series.items()}}
    out["met"] = out["answer"]["p95"] <= TARGET_P95_S and not out["missed"]
    log(f"live: p95 {out['answer']['p95'] * 1000:.0f} ms, {out['missed']} missed")
    return out
