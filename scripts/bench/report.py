"""docs/PERFORMANCE.md's figures from the results, through one template (report.md.j2): each
of its blocks fills the part of the doc between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`; everything outside those markers is written by hand and kept."""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from scripts.bench.common import ROOT

DOC = ROOT / "docs" / "PERFORMANCE.md"
HERE = Path(__file__).parent


def num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def share(value: Any) -> str:
    return "–" if value is None else f"{value:.0%}"


def ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def ms3(s: dict[str, Any]) -> str:
    return f"{num(s['median'])} | {num(s['p95'])} | {num(s['max'])}"


def measured(r: dict[str, Any], results: dict[str, Any], name: str) -> str:
    """When, how long and on what a scenario was measured (its own machine, else the run's)."""
    m = r.get("machine") or results["machine"]
    pg = results.get("facts", {}).get("pg_server")
    return (f"_Measured {r.get('when') or results['when']} in {num(r['took_s'], 0)} s "
            f"(`python -m scripts.bench full --only {name}`) on {m['cpus']} cores ({m['cpu']}), "
            f"Python {m['python']}, SQLite {m['sqlite']}" + (f", PostgreSQL {pg}" if pg else "")
            + f"; 1-minute load average at the start {num(m['load'])}._")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=num, share=share, ok=ok, ms3=ms3)
    env.globals.update(measured=measured)
    return env


def render(results: dict[str, Any]) -> dict[str, str]:
    """Each scenario's block rendered (only those with results)."""
    template = environment().get_template("report.md.j2")
    out = {}
    for name, result in results["scenarios"].items():
        ctx = template.new_context({"r": result, "all": results, "name": name})
        out[name] = "".join(template.blocks[name](ctx)).strip("\n")
    return out


def write(results: dict[str, Any], doc: Path = DOC) -> None:
    """Replace each scenario's marked part of the doc; a scenario whose markers are missing
    is added at the end."""
    text = doc.read_text(encoding="utf-8")
    for name, body in render(results).items():
        begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        block = f"{begin}\n{body}\n{end}"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        text = pattern.sub(lambda _m, b=block: b, text) if pattern.search(text) \
            else text.rstrip("\n") + f"\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")
