"""Three heavy uploads at once on a real server: time to the message, the server's memory. Prints
figures; asserts nothing.

A `streamlit run app.py` server on loopback; three visitors (benchmarks/loadgen.py sessions) open
Home, switch the sidebar to Upload and then, at the same moment, each upload one of
tests/heavy_images.py's heavy files that the budget accepts (a 9450 x 9450 16-bit PNG, a palette
PNG, a progressive JPEG; each within uploads.DECODE_BUDGET), through Streamlit's own upload route
and a rerun, as a browser does. Per round: each visitor's time from its rerun to the finished
page and what the page said (the picture, or the "busy" line); after a warm-up (one visit to /network,
so TensorFlow and a network are loaded, and one ordinary 512 x 512 JPEG upload per visitor), the
server process's peak RSS during the round (VmHWM, reset through /proc/PID/clear_refs) and its RSS 2 s after the round,
both minus its RSS just before the round. Rounds repeat on the same server, so "kept" adds up.

"before" serves the app as it was at --before (default: the commit before cnnviz/decoding.py
came), unpacked with `git archive` into a temporary folder; "after" serves the working tree.
Both servers run at the same time and take their rounds in turn, on the same files. Goal: each message within
2 s, no upload raising the server's peak by 500 MB, memory back after.

    .venv/bin/python benchmarks/bench_heavy_uploads.py [--rounds 3] [--before REV]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import pathlib
import statistics
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import heavy_images  # noqa: E402
import loadgen  # noqa: E402

# case -> the name the visitor's file has (the uploader checks the extension)
CASES = {"png16_gray": "scan16.png", "png_palette": "palette.png", "jpeg_progressive": "photo.jpg"}
UPLOAD_LABEL = ":material/upload: Upload"


def before_revision() -> str:
    found = subprocess.run(["git", "log", "--format=%H", "--diff-filter=A", "--", "cnnviz/decoding.py"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    return f"{found[-1]}^" if found else "HEAD"


def unpack(revision: str, folder: pathlib.Path) -> pathlib.Path:
    blob = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def outcome(run: loadgen.RunResult, name: str) -> str:
    if run.errors or run.exceptions:
        return "failed: " + "; ".join(run.errors + run.exceptions)[:60]
    if any("busy" in e for e in run.error_alerts):
        return "busy"
    if run.error_alerts:
        return "refused"
    return "picture" if any(f"upload: {name}" in t for t in run.texts) else "no message"


async def visitors(url: str, n: int, warm: bytes) -> list[loadgen.StreamlitSession]:
    """n sessions on Home with the sidebar on Upload, after a warm-up: TensorFlow and the first
    network loaded (one visit to /network), and one ordinary upload each."""
    sessions = []
    for i in range(n):
        s = loadgen.StreamlitSession(url, i, run_timeout=180, fetch_media=False)
        await s.open("/")
        if i == 0:
            await s.goto("network")
            await s.goto("")
        await s.set(s.find(key="cnnviz_source"), [UPLOAD_LABEL])
        await s.upload(s.find(key="cnnviz_upload"), "warm-up.jpg", warm)
        sessions.append(s)
    return sessions


async def one_round(sessions, files: list[tuple[str, bytes]], pid: int) -> dict:
    for s, (name, data) in zip(sessions, files):        # the files reach the server first
        await s.send_file(s.find(key="cnnviz_upload"), name, data)
    base = status_mb(pid, "VmRSS")
    with open(f"/proc/{pid}/clear_refs", "w") as f:    # VmHWM := VmRSS from here
        f.write("5")
    runs = await asyncio.gather(*(s._rerun(f"upload {name}", page_hash=s.page_hash)
                                  for s, (name, _) in zip(sessions, files)))
    peak = status_mb(pid, "VmHWM") - base
    await asyncio.sleep(2.0)
    return {"visitors": [(r.latency or float("nan"), outcome(r, name)) for r, (name, _) in zip(runs, files)],
            "peak": peak, "kept": status_mb(pid, "VmRSS") - base, "rss": base}


async def measure(trees: dict[str, pathlib.Path], files, warm: bytes, rounds: int) -> dict[str, list[dict]]:
    """Both servers up at once, rounds taken in turn (before, after, before, ...), so both see
    the same load from anything else on the machine."""
    servers = {variant: loadgen.serve(folder / "app.py", cwd=folder) for variant, folder in trees.items()}
    try:
        sessions = {v: await visitors(url, len(files), warm) for v, (_, url) in servers.items()}
        await asyncio.sleep(2.0)
        results: dict[str, list[dict]] = {v: [] for v in servers}
        for i in range(rounds):
            for v, (proc, _) in servers.items():
                r = await one_round(sessions[v], files, proc.pid)
                results[v].append(r)
                shown = "  ".join(f"{t:5.2f}s ({o})" for t, o in r["visitors"])
                print(f"{v:7} {i + 1:>5} | {shown:58} | {r['peak']:+6.0f}M {r['kept']:+6.0f}M "
                      f"{r['rss']:5.0f}M", flush=True)
        for group in sessions.values():
            for s in group:
                await s.close()
        return results
    finally:
        for proc, _ in servers.values():
            loadgen.stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of three uploads per server (default 3)")
    parser.add_argument("--before", default=None, help="git revision for 'before' (default: before cnnviz/decoding.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        written = heavy_images.write_cases(tmp / "cases", [*CASES, heavy_images.REFERENCE])
        files = [(CASES[c], written[c].read_bytes()) for c in CASES]
        revision = args.before or before_revision()
        trees = {"before": unpack(revision, tmp / "before"), "after": ROOT}
        print(f"three visitors upload at once: {', '.join(f'{n} ({len(d) / 2**20:.1f} MB)' for n, d in files)}")
        print(f"before: {revision} (git archive); after: the working tree; {args.rounds} rounds each\n")
        print(f"{'variant':7} {'round':>5} | {'time to message per visitor (what it said)':58} | "
              f"{'peak':>7} {'kept':>7} {'RSS':>6}")
        summary = asyncio.run(measure(trees, files, written[heavy_images.REFERENCE].read_bytes(), args.rounds))
        print()
        for variant, rs in summary.items():
            slowest = [max(t for t, _ in r["visitors"]) for r in rs]
            print(f"{variant}: slowest message median {statistics.median(slowest):.2f} s (max {max(slowest):.2f}); "
                  f"server peak median {statistics.median(r['peak'] for r in rs):+.0f} MB "
                  f"(max {max(r['peak'] for r in rs):+.0f}); kept 2 s after a round median "
                  f"{statistics.median(r['kept'] for r in rs):+.0f} MB (max {max(r['kept'] for r in rs):+.0f}); "
                  f"RSS {rs[0]['rss']:.0f} -> {rs[-1]['rss'] + rs[-1]['kept']:.0f} MB over the rounds")


if __name__ == "__main__":
    main()
