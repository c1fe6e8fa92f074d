"""No input reaches a 500: random values posted to every form route, for every role.

Hypothesis takes the access matrix's payload of each POST route (fields that would change the
database) and spoils some of its values: numbers of any size and sign, 400-digit strings, NUL
and other control characters, full-width digits and spaces, a 1 MB string, impossible dates,
a field sent several times, a file that is not an image, an SVG with a script, no CSRF token.
Every answer must be below 500, and a refused request (4xx) must leave the database as it was.
Query strings of every GET route get the same values.

`make test` runs a bounded number of examples (PSD_FUZZ_EXAMPLES, default 25 per role);
`make fuzz` runs many more.
"""
from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db as _db
from app.models import Slip
from tests import factories
from tests.web.test_access_matrix import (
    ROLES,
    build_url,
    db_state,
    differences,
    fetch,
    granted,
    post_data,
    required_perm,
    rules,
)

EXAMPLES = int(os.environ.get("PSD_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
# Refused sign-ins count against the account and the address by design: not a half-save.
COUNTS_FAILURES = {"auth.login"}
SKIPPED = {"auth.logout"}  # ends the fuzzing session itself

nasty_text = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["9" * 400, "-" + "9" * 400, "0", "-1", "2147483648", "9223372036854775808",
                     "18446744073709551616", "1e309", "NaN", "inf", "１２３", "²", "①",
                     " ", "\u3000", "\u3000\u3000", "\x00", "a\x00b", "\r\n", "\x1b[31m",
                     "0001-01-01", "9999-12-31", "2026-02-30", "99999-01-01", "25:61",
                     "<script>alert(1)</script>", "'; drop table slips; --", "%", "_",
                     "x" * (1 << 20)]),
    st.text(max_size=40),
)
bad_files = st.sampled_from([
    (b"not an image at all", "p.png"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "p.svg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "cut.png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "cut.jpg"),
    (b"", "empty.png"),
    ("building,entrance,unit,name\n" + "9" * 400 + ",1,101,王五\n", "units.csv"),
])


@st.composite
def spoiled(draw, data: dict) -> tuple[dict, bool]:
    """The payload with some values spoiled, and whether the CSRF token is sent."""
    out = dict(data)
    keys = list(out) + ["extra"]
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)):
        if isinstance(out.get(key), tuple):  # a file field
            content, name = draw(bad_files)
            out[key] = (io.BytesIO(content.encode() if isinstance(content, str) else content),
                        name)
        elif draw(st.booleans()) and key != "extra":
            out[key] = draw(st.lists(nasty_text, min_size=2, max_size=3))  # sent twice or more
        else:
            out[key] = draw(nasty_text)
    return out, draw(st.integers(0, 9)) > 0


def signed_in(app, role: str, w: dict):
    user = factories.user(role)
    if role == "worker":  # a worker reaches only the slips assigned to them
        _db.session.get(Slip, w["slip_id"]).worker_id = user.id
    _db.session.commit()
    client = app.test_client()
    assert client.post("/login", data={"username": user.username,
                                       "password": factories.PASSWORD}).status_code == 302
    return client


def posted(app, client, rule, w, payload: dict, csrf: bool) -> list[str]:
    url = build_url(app, rule, w)
    before = db_state(app)
    resp, crash = fetch(client, "POST", url, data=payload, csrf=csrf)
    if crash:
        return [f"POST {url}: {crash}"]
    if resp.status_code >= 500:
        return [f"POST {url}: {resp.status_code}"]
    if 400 <= resp.status_code < 500 and rule.endpoint not in COUNTS_FAILURES:
        changed = differences(before, db_state(app))
        if changed:
            return [f"POST {url} refused with {resp.status_code} but changed {changed}"]
    return []


def post_routes(app, role: str | None):
    return [r for r in rules(app) if "POST" in r.methods and r.endpoint not in SKIPPED
            and granted(required_perm(app, r), role)]


def fuzz_posts(app, client, routes, w) -> list[str]:
    """EXAMPLES spoiled posts to routes drawn from `routes`; what went wrong."""
    failures: list[str] = []

    @FUZZ
    @given(data=st.data())
    def one_post(data):
        rule = data.draw(st.sampled_from(routes), label="route")
        payload, csrf = data.draw(spoiled(post_data(rule.endpoint, w)), label="payload")
        failures.extend(posted(app, client, rule, w, payload, csrf))

    one_post()
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_spoiled_form_posts_never_break_a_page_nor_half_save(app, world, role):
    failures = fuzz_posts(app, signed_in(app, role, world), post_routes(app, role), world)
    assert not failures, f"{len(failures)} failures for {role}:\n" + "\n".join(failures[:20])


def test_spoiled_posts_from_an_anonymous_visitor(app, world):
    routes = [r for r in rules(app) if "POST" in r.methods]
    failures = fuzz_posts(app, app.test_client(), routes, world)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("role", ROLES)
def test_spoiled_query_strings_never_break_a_page(app, world, role):
    client = signed_in(app, role, world)
    routes = [r for r in rules(app) if "GET" in r.methods
              and granted(required_perm(app, r), role)]
    keys = ["q", "day", "start", "end", "month", "page", "actor", "entity_id", "unit_id",
            "kind", "clerk", "version", "state", "since", "next", "worker"]
    failures: list[str] = []

    @FUZZ
    @given(data=st.data())
    def one_get(data):
        rule = data.draw(st.sampled_from(routes), label="route")
        query = data.draw(st.dictionaries(st.sampled_from(keys), nasty_text.filter(
            lambda v: len(v) < 5000), min_size=1, max_size=3), label="query")
        url = build_url(app, rule, world)
        resp, crash = fetch(client, "GET", url, query_string=query)
        if crash or resp.status_code >= 500:
            failures.append(f"GET {url} {query!r}: {crash or resp.status_code}")

    one_get()
    assert not failures, f"{len(failures)} failures for {role}:\n" + "\n".join(failures[:20])
