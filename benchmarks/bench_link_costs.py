"""What a link costs the web process, before and after a change, in the same run. Prints figures;
asserts nothing (tests/ui/test_link_costs.py holds the limits).

Each case runs in a fresh Python process (tests/link_costs.py): Streamlit's AppTest opens the
page from its plain view (imports, the TensorFlow preload), empties st.cache_data, opens the
plain view again, then the measured link in a new session: its time, its peak RSS and malloc's
peak (bytes allocated) and the RSS kept, each above the figure before that run.

    .venv/bin/python benchmarks/bench_link_costs.py [--before REV] [--repeat N] [--plain QUERY]
                                                     [--together | --at-once] [PAGE?QUERY ...]

--before REV also runs the same links on the code of git revision REV (exported to a temporary
folder with git archive). Without links: /more-convolutions?k=7&c=1024&f=1024.
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_LINKS = ["more-convolutions?k=7&c=1024&f=1024"]
sys.path.insert(0, str(ROOT / "tests"))
from link_costs import Cost, in_fresh_process  # noqa: E402


def page_and_query(link: str) -> tuple[str, dict]:
    path, _, query = link.lstrip("/").partition("?")
    return (path.replace("-", "_") or "home") + ".py", dict(urllib.parse.parse_qsl(query))


def measure(tree: pathlib.Path, links: list[str], plain: str) -> dict[str, Cost]:
    """Each link's cost, all measured one after another in one fresh process."""
    plain_query = dict(urllib.parse.parse_qsl(plain))
    return in_fresh_process(tree, {link: (*page_and_query(link), plain_query) for link in links})


def export(rev: str, into: pathlib.Path) -> pathlib.Path:
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("links", nargs="*", default=DEFAULT_LINKS)
    ap.add_argument("--before", help="a git revision to measure too, e.g. HEAD~3")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--together", action="store_true", help="measure the links one after another "
                    "in one process and add up what they keep")
    ap.add_argument("--at-once", action="store_true", help="open the links (of one page) at the "
                    "same time in one process, each in its own session: tabs of one server")
    ap.add_argument("--plain", default="", help="the plain view's query the link is measured "
                    "against, e.g. net=cifar10&image=cifar-cat (default: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("now", ROOT)]
        if args.before:
            trees.insert(0, (args.before, export(args.before, pathlib.Path(tmp))))
        if args.at_once:
            for label, tree in trees:
                for _ in range(args.repeat):
                    page = page_and_query(args.links[0])[0]
                    queries = [page_and_query(link)[1] for link in args.links]
                    plain = dict(urllib.parse.parse_qsl(args.plain))
                    cost = in_fresh_process(tree, {"at once": (page, queries, plain)})["at once"]
                    print(f"{len(queries)} links to {page} at once [{label}]: {cost}", flush=True)
            return
        groups = [args.links] if args.together else [[link] for link in args.links]
        for links in groups:
            for label, tree in trees:
                for _ in range(args.repeat):
                    costs = measure(tree, links, args.plain)
                    for link, cost in costs.items():
                        print(f"{link} [{label}]: {cost}"
                              + (f"  errors: {cost.problems}" if cost.problems else ""), flush=True)
                    if len(costs) > 1:
                        print(f"  together [{label}]: {sum(c.seconds for c in costs.values()):.2f} s, "
                              f"kept +{sum(c.kept_mb for c in costs.values()):.0f} MB", flush=True)

if __name__ == "__main__":
    main()
