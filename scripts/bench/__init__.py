"""The benchmark harness: `python -m scripts.bench full|quick` (`make bench`, `make bench-quick`).

One scenario per question (bench.scenarios), all on throwaway databases built from the demo
and one bulk-history builder (bench.history); results as JSON; docs/PERFORMANCE.md's figures
rendered from one template (bench/report.md.j2), its prose written by hand around them.
"""
