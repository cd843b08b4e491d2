"""What a link costs the web process, before and after a change, in the same run. Prints figures;
asserts nothing (tests/ui/test_link_costs.py holds the limits).

Each case runs in a fresh Python process (tests/link_costs.py): Streamlit's AppTest opens the
page from its plain view (imports, the TensorFlow preload), empties st.cache_data, opens the
plain view again, then the measured link in a new session: its time and its peak and kept RSS
above the RSS before that run.

    .venv/bin/python benchmarks/bench_link_costs.py [--before REV] [--repeat N] [--plain QUERY] [PAGE?QUERY ...]

--before REV also runs the same links on the code of git revision REV (exported to a temporary
folder with git archive). Without links: /more-convolutions?k=7&c=1024&f=1024.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_LINKS = ["more_convolutions?k=7&c=1024&f=1024"]

_CHILD = """
import json, pathlib, sys
sys.path.insert(0, {tests!r})
from link_costs import link_cost
cost = link_cost(pathlib.Path({app!r}), {page!r}, {query!r}, {plain!r})
print("COST " + json.dumps([cost.seconds, cost.cpu_seconds, cost.plain_seconds, cost.peak_mb, cost.kept_mb, list(cost.problems)]))
"""


def page_and_query(link: str) -> tuple[str, dict]:
    path, _, query = link.lstrip("/").partition("?")
    name = path.replace("-", "_") or "home"
    return f"cnnviz/ui/pages/{name}.py", dict(urllib.parse.parse_qsl(query))


def measure(tree: pathlib.Path, link: str, plain: str) -> list:
    page, query = page_and_query(link)
    plain_query = dict(urllib.parse.parse_qsl(plain))
    code = _CHILD.format(tests=str(ROOT / "tests"), app=str(tree / "app.py"), page=page, query=query,
                         plain=plain_query)
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True,
                         text=True, timeout=900)
    line = next((x for x in out.stdout.splitlines() if x.startswith("COST ")), None)
    if line is None:
        raise RuntimeError(f"{link} in {tree}: no result\n{out.stderr[-3000:]}")
    return json.loads(line[5:])


def export(rev: str, into: pathlib.Path) -> pathlib.Path:
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("links", nargs="*", default=DEFAULT_LINKS)
    ap.add_argument("--before", help="a git revision to measure too, e.g. HEAD~3")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--plain", default="", help="the plain view's query the link is measured "
                    "against, e.g. net=cifar10&image=cifar-cat (default: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("now", ROOT)]
        if args.before:
            trees.insert(0, (args.before, export(args.before, pathlib.Path(tmp))))
        for link in args.links:
            for label, tree in trees:
                for _ in range(args.repeat):
                    seconds, cpu, plain_s, peak, kept, problems = measure(tree, link, args.plain)
                    print(f"{link:55s} {label:>10s}: {seconds:6.2f} s ({cpu:5.2f} s CPU; plain view {plain_s:5.2f} s)  peak +{peak:6.0f} MB  "
                          f"kept +{kept:6.0f} MB" + (f"  errors: {problems}" if problems else ""),
                          flush=True)


if __name__ == "__main__":
    main()
