"""Three heavy uploads at once: what do they cost the server process? Prints figures; asserts nothing.

Three threads of one process, started together at a barrier, each hand one of tests/heavy_images.py's
heavy files that the budget accepts (a 9450 x 9450 16-bit PNG, a palette PNG, a progressive JPEG;
each decodes within uploads.DECODE_BUDGET) to the app's upload path, as three visitors'
sessions would. Measured per run, in a fresh process that has imported TensorFlow as the web
server has: each visitor's time to the message (the picture, a refusal or the "busy" line), the
process's peak RSS over the three (VmHWM, reset just before) and its RSS afterwards, both minus
its RSS just before. A decoding child's own peak is load_image's in a fresh process
(heavy_images.probe, as benchmarks/bench_uploads.py reports it), printed per file; the kernel's
ru_maxrss of children would count the server's pages at fork.

"before" is the upload path as it was: two slots, a visitor over them waits up to 10 s for one,
uploads.load_image in the server process. "after" is cnnviz.decoding.decode: the same two
slots taken without waiting ("busy" at once), each decode in a short-lived child process. Both are
measured in the same run, alternately; "server" is the process's RSS before the uploads. The goal: each message within 2 s, no upload raising the
server's peak by 500 MB, memory back after.

    .venv/bin/python benchmarks/bench_heavy_uploads.py [--runs 3] [--no-tensorflow]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import heavy_images  # noqa: E402

CASES = ("png16_gray", "png_palette", "jpeg_progressive")

_CHILD = r"""
import gc, json, sys, threading, time
variant, tensorflow, warm, paths = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4:]
if tensorflow:
    import tensorflow                                   # as the web server holds it
from cnnviz import decoding, uploads
from cnnviz.images import ImageError

def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

old_slots = threading.BoundedSemaphore(2)
def before(data):                                       # widgets._decode before cnnviz.decoding
    if not old_slots.acquire(timeout=10):
        raise ImageError("busy")
    try:
        return uploads.load_image(data, name="upload", source="upload")
    finally:
        old_slots.release()

decode = before if variant == "before" else decoding.decode
files = [open(p, "rb").read() for p in paths]
uploads.load_image(open(warm, "rb").read())             # Pillow's plugins loaded, as after a first upload
gc.collect()
base = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:          # VmHWM := VmRSS from here
    f.write("5")
barrier = threading.Barrier(len(files))
results = [None] * len(files)

def visitor(i):
    barrier.wait()
    start = time.perf_counter()
    try:
        pic = decode(files[i])
        outcome = "x".join(map(str, pic.pixels.shape))
    except decoding.Busy:
        outcome = "busy"
    except ImageError as e:
        outcome = "busy" if str(e) == "busy" else "refused"
    results[i] = {"seconds": time.perf_counter() - start, "outcome": outcome}

threads = [threading.Thread(target=visitor, args=(i,)) for i in range(len(files))]
for t in threads: t.start()
for t in threads: t.join()
peak = status_mb("VmHWM") - base
gc.collect()
time.sleep(1.0)
print(json.dumps({"visitors": results, "peak_mb": peak, "retained_mb": status_mb("VmRSS") - base,
                  "base_mb": base}))
"""


def run(variant: str, paths: list[pathlib.Path], warm: pathlib.Path, tensorflow: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, variant, "1" if tensorflow else "0",
                           str(warm), *map(str, paths)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per variant (default 3)")
    parser.add_argument("--no-tensorflow", action="store_true", help="do not import TensorFlow first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        written = heavy_images.write_cases(pathlib.Path(tmp), [*CASES, heavy_images.REFERENCE])
        paths = [written[n] for n in CASES]
        print(f"three visitors at once: {', '.join(CASES)}; {args.runs} fresh processes per variant, "
              f"alternating; TensorFlow imported: {not args.no_tensorflow}\n")
        for name, path in zip(CASES, paths):
            print(f"{name}: a decoding child's own peak {heavy_images.probe(path)['peak_mb']:.0f} MB")
        print(f"\n{'variant':8} {'run':>3} | {'time to message per visitor (outcome)':52} | "
              f"{'peak':>7} {'kept':>7} {'server':>7}")
        summary: dict[str, list[dict]] = {"before": [], "after": []}
        for i in range(args.runs):
            for variant in ("before", "after"):
                r = run(variant, paths, written[heavy_images.REFERENCE], not args.no_tensorflow)
                summary[variant].append(r)
                visitors = "  ".join(f"{v['seconds']:5.2f}s ({v['outcome']})" for v in r["visitors"])
                print(f"{variant:8} {i + 1:>3} | {visitors:52} | {r['peak_mb']:+6.0f}M "
                      f"{r['retained_mb']:+6.0f}M {r['base_mb']:6.0f}M", flush=True)
        print()
        for variant, rs in summary.items():
            slowest = [max(v["seconds"] for v in r["visitors"]) for r in rs]
            print(f"{variant}: slowest message median {statistics.median(slowest):.2f} s (max "
                  f"{max(slowest):.2f} s); server peak median {statistics.median(r['peak_mb'] for r in rs):+.0f} MB "
                  f"(max {max(r['peak_mb'] for r in rs):+.0f}); kept after median "
                  f"{statistics.median(r['retained_mb'] for r in rs):+.0f} MB (max "
                  f"{max(r['retained_mb'] for r in rs):+.0f})")


if __name__ == "__main__":
    main()
