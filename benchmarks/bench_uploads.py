"""What do heavy and hostile uploads cost uploads.load_image? Prints figures; asserts nothing.

The cases are tests/heavy_images.py's (the ones tests/test_upload_budget.py loads): a 9450 × 9450
16-bit PNG, palette and RGBA PNGs, an RLE BMP, float and 32-bit TIFFs, a 30,000-page TIFF and a
30,000-frame GIF, huge WebPs, progressive JPEGs, and, as the reference, an ordinary 512 × 512
JPEG. Each is loaded in a fresh Python process, several times; printed per case: the outcome,
the median wall time and CPU time of load_image (CPU time is steadier on a busy machine) and the
median peak RSS increase (the process's VmHWM minus its RSS just before the call).

"after" is the working tree's cnnviz/uploads.py; "before" is the version from before the upload
budget (the parent of the commit that introduced DECODE_BUDGET, read with `git show`), measured
in the same run. The goal: no upload raises the peak by 500 MB or takes 2 s.

    .venv/bin/python benchmarks/bench_uploads.py [--repeats 5] [--before-repeats 1]
                                                 [--before REV | --before none] [--cases a,b]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import heavy_images  # noqa: E402


def before_revision() -> str:
    """The commit before the one that brought DECODE_BUDGET into cnnviz/images.py (or HEAD)."""
    found = subprocess.run(["git", "log", "--format=%H", "--reverse", "-S", "DECODE_BUDGET", "--",
                            "cnnviz/images.py"], cwd=ROOT, capture_output=True, text=True)
    first = found.stdout.split()
    return f"{first[0]}^" if found.returncode == 0 and first else "HEAD"


def old_module(revision: str, directory: pathlib.Path) -> pathlib.Path | None:
    shown = subprocess.run(["git", "show", f"{revision}:cnnviz/images.py"], cwd=ROOT,
                           capture_output=True, text=True)
    if shown.returncode != 0 or "DECODE_BUDGET" in shown.stdout:
        print(f"(no 'before': {revision}:cnnviz/images.py is missing or already has the budget)")
        return None
    path = directory / "images_before.py"
    path.write_text(shown.stdout, encoding="utf-8")
    return path


def measure(path: pathlib.Path, module, repeats: int) -> dict:
    runs = [heavy_images.probe(path, module, timeout=600) for _ in range(repeats)]
    last = runs[-1]
    return {
        "outcome": "refused" if "error" in last else "×".join(map(str, last["shape"][:2])),
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu_seconds"] for r in runs),
        "peak": statistics.median(r["peak_mb"] for r in runs),
        "error": last.get("error", ""),
    }


def row(m: dict | None, ref: dict | None) -> str:
    if m is None:
        return f"{'':>9} {'':>7} {'':>7} {'':>8} {'':>7}"
    ratio = f"{m['seconds'] / ref['seconds']:6.1f}×" if ref and ref["seconds"] > 0 else ""
    return f"{m['outcome']:>9} {m['seconds']:6.2f}s {m['cpu']:6.2f}s {m['peak']:6.0f}MB {ratio:>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per case, after (default 5)")
    parser.add_argument("--before-repeats", type=int, default=1,
                        help="runs per case, before (default 1: up to 20 s and 2.7 GB each)")
    parser.add_argument("--before", default=None, help="git revision to compare with, or 'none'")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    names = [n for n in args.cases.split(",") if n] or list(heavy_images.CASES)
    names = [heavy_images.REFERENCE] + [n for n in names if n != heavy_images.REFERENCE]

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        paths = heavy_images.write_cases(tmp / "cases", names)
        before = None
        if args.before != "none":
            revision = args.before or before_revision()
            before = old_module(revision, tmp)
            if before:
                print(f"before: cnnviz/images.py at {revision}")
        print("after:  cnnviz/uploads.py in the working tree")
        print(f"medians of {args.repeats} (after) and {args.before_repeats} (before) fresh processes; "
              "× = wall time over the reference's, same column\n")
        header = f"{'outcome':>9} {'wall':>7} {'cpu':>7} {'peak':>8} {'× ref':>7}"
        print(f"{'case':22} {'file':>9} | {'after':^42} | {'before':^42}")
        print(f"{'':22} {'':>9} | {header} | {header}")
        refs: dict[str, dict | None] = {"after": None, "before": None}
        errors = []
        for name in names:
            after = measure(paths[name], "cnnviz.uploads", args.repeats)
            old = measure(paths[name], before, args.before_repeats) if before else None
            if name == heavy_images.REFERENCE:
                refs = {"after": after, "before": old}
            size = paths[name].stat().st_size
            size_text = (f"{size / 2**20:.1f} MB" if size >= 2**20 else
                         f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B")
            print(f"{name:22} {size_text:>9} | {row(after, refs['after'])} | "
                  f"{row(old, refs['before'])}", flush=True)
            if after["error"]:
                errors.append(f"{name}: {after['error']}")
        print("\nrefusals (after):")
        for line in errors:
            print("  " + line)


if __name__ == "__main__":
    main()
