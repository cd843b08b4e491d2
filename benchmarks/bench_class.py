"""A live class under load (issue L): does every following student see the teacher's change
within 1 s, and is every answer counted?

Store level (this script; no Streamlit): the rooms of cnnviz.classroom as the /class page uses
them, on the embedded MemoryStore (students are threads of the teacher's process, as sessions
of one Streamlit process are) and on a real redis-server (students spread over --processes
processes, as sessions behind the balancer are). The protocol:

* The teacher starts a room; N students join with a nickname (N = 30 and 60 by default).
* Each student ticks every --tick seconds (a random phase each, as browsers poll independently):
  view() (the page and settings to follow), poll() (the open question) and seen() (the
  heartbeat), the reads and the write a follower's page makes per poll. The tick's time is
  recorded.
* The teacher changes the view --changes times, 2 ticks + 0.3-0.7 s apart (time for every
  student to see each change). Latency = the moment a student's tick first returns the new
  version minus the moment the teacher's set_view() began (one machine: one clock). It includes
  waiting for the next tick, so it is about tick/2 on average and up to one tick, plus the store.
* The teacher asks a question; each student answers it (a random choice) on its next tick, all
  within one tick of each other. The teacher then reads poll() until every answer is counted (or
  10 s), reveals, and the revealed counts are compared with the choices the students report.

Printed per setting: the p50/p95/max of change -> seen, how many changes every student saw, the
tick's p50/p95 and the answers counted (N of N), with the student processes' CPU. The machine
is shared; compare the stores within one run, not with other runs.

Usage:
  python benchmarks/bench_class.py                       # memory and redis, 30 and 60 students
  python benchmarks/bench_class.py --stores redis --students 60 --processes 2 --tick 0.5
  python benchmarks/bench_class.py --redis-url redis://127.0.0.1:6379/0   # an existing Redis
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import random
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cnnviz.classroom import Rooms  # noqa: E402
from cnnviz.classroom.store import MemoryStore, RedisStore  # noqa: E402

GOAL_P95 = 1.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def student(rooms: Rooms, code: str, name: str, tick: float, stop: threading.Event, out: list) -> None:
    """One follower: join, then tick until `stop`; appends its record to `out`."""
    seat = rooms.join(code, name, "127.0.0.1")
    rng = random.Random(name)
    seen_versions: dict[int, float] = {}
    ticks: list[float] = []
    answered: dict[int, int] = {}
    time.sleep(rng.uniform(0, tick))
    while not stop.is_set():
        began = time.time()
        view = rooms.view(code)
        poll = rooms.poll(code)
        rooms.seen(code, seat)
        now = time.time()
        ticks.append(now - began)
        if view is not None and view.version not in seen_versions:
            seen_versions[view.version] = now
        if poll is not None and not poll.revealed and poll.id not in answered:
            choice = rng.randrange(len(poll.choices))
            rooms.answer(code, seat, poll.id, choice)
            answered[poll.id] = choice
        stop.wait(max(0.0, tick - (time.time() - began)))
    out.append({"seen": seen_versions, "ticks": ticks, "answered": answered})


def student_process(url: str, code: str, names: list[str], tick: float, stop_file: str, queue) -> None:
    """Students in their own process, each with its own connection, as app processes are."""
    t0 = time.process_time()
    stop, out = threading.Event(), []
    threads = [threading.Thread(target=student, args=(Rooms(RedisStore(url)), code, n, tick, stop, out))
               for n in names]
    for t in threads:
        t.start()
    while not os.path.exists(stop_file):
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    queue.put({"records": out, "cpu": time.process_time() - t0})


def teacher_run(rooms: Rooms, code: str, key: str, n: int, changes: int, tick: float) -> dict:
    """The teacher's part: view changes, then a question; returns the change times and the poll."""
    rng = random.Random(0)
    changed: dict[int, float] = {}
    deadline = time.time() + 30
    while len(rooms.students(code)) < n and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)                                  # every student ticking
    for i in range(changes):
        began = time.time()
        view = rooms.set_view(code, key, "convolution", {"kernel": f"k{i}", "stride": str(1 + i % 3)})
        changed[view.version] = began
        time.sleep(2 * tick + rng.uniform(0.3, 0.7))
    asked = rooms.ask(code, key, "Which map is Sobel x?", ["A", "B", "C", "D"], 1)
    began, wait_until = time.time(), time.time() + 10
    while rooms.poll(code).answered < n and time.time() < wait_until:
        time.sleep(0.02)
    all_counted = time.time() - began
    return {"changed": changed, "poll": rooms.reveal(code, key), "all_counted_s": all_counted,
            "poll_id": asked.id}


def summarise(title: str, n: int, run: dict, records: list[dict], cpu_s: float, wall_s: float) -> dict:
    latencies, complete = [], 0
    for version, began in run["changed"].items():
        seen = [r["seen"][version] - began for r in records if version in r["seen"]]
        latencies += seen
        complete += len(seen) == n
    ticks = [t for r in records for t in r["ticks"]]
    expected = [0] * len(run["poll"].choices)
    for r in records:
        if run["poll_id"] in r["answered"]:
            expected[r["answered"][run["poll_id"]]] += 1
    poll = run["poll"]
    result = {
        "setting": title, "students": n, "changes": len(run["changed"]), "changes_seen_by_all": complete,
        "seen_p50_s": percentile(latencies, 0.5), "seen_p95_s": percentile(latencies, 0.95),
        "seen_max_s": max(latencies, default=float("nan")),
        "tick_p50_ms": 1000 * percentile(ticks, 0.5), "tick_p95_ms": 1000 * percentile(ticks, 0.95),
        "answers_counted": poll.answered, "counts_match": list(poll.counts) == expected,
        "all_counted_s": run["all_counted_s"], "students_cpu_s": cpu_s, "wall_s": wall_s,
    }
    print(f"{title:28s} N={n:3d}  change->seen p50 {result['seen_p50_s']:.3f} s  p95 "
          f"{result['seen_p95_s']:.3f} s  max {result['seen_max_s']:.3f} s  "
          f"({complete}/{len(run['changed'])} changes seen by all)  tick p50 {result['tick_p50_ms']:.1f} ms "
          f"p95 {result['tick_p95_ms']:.1f} ms  answers {poll.answered}/{n} "
          f"{'= the students’ choices' if result['counts_match'] else 'DIFFER from the students’ choices'} "
          f"(all counted {run['all_counted_s']:.2f} s after asking)  students' CPU {cpu_s:.1f} s in {wall_s:.0f} s",
          flush=True)
    return result


def run_memory(n: int, tick: float, changes: int) -> dict:
    rooms = Rooms(MemoryStore())
    room = rooms.start()
    stop, records = threading.Event(), []
    threads = [threading.Thread(target=student, args=(rooms, room.code, f"s{i}", tick, stop, records))
               for i in range(n)]
    t0, cpu0 = time.time(), time.process_time()
    for t in threads:
        t.start()
    run = teacher_run(rooms, room.code, room.key, n, changes, tick)
    stop.set()
    for t in threads:
        t.join()
    return summarise("memory (1 process)", n, run, records, time.process_time() - cpu0, time.time() - t0)


def run_redis(url: str, n: int, processes: int, tick: float, changes: int, workdir: str) -> dict:
    rooms = Rooms(RedisStore(url))
    room = rooms.start()
    stop_file = os.path.join(workdir, f"stop-{n}-{processes}-{time.time_ns()}")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    names = [f"s{i}" for i in range(n)]
    procs = [ctx.Process(target=student_process, args=(url, room.code, names[p::processes], tick, stop_file, queue))
             for p in range(processes)]
    t0 = time.time()
    for p in procs:
        p.start()
    run = teacher_run(rooms, room.code, room.key, n, changes, tick)
    open(stop_file, "w").close()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    os.unlink(stop_file)
    rooms.end(room.code, room.key)
    records = [r for res in results for r in res["records"]]
    return summarise(f"redis ({processes} processes)", n, run, records, sum(r["cpu"] for r in results),
                     time.time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", default="memory,redis")
    ap.add_argument("--students", default="30,60")
    ap.add_argument("--processes", type=int, default=2, help="student processes on Redis")
    ap.add_argument("--tick", type=float, default=0.5, help="seconds between a student's polls")
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--redis-url", default="", help="an existing Redis (default: start redis-server)")
    args = ap.parse_args()
    stores = args.stores.split(",")
    counts = [int(s) for s in args.students.split(",")]
    stop_redis = None
    url = args.redis_url
    if "redis" in stores and not url:
        from redis_server import start_redis
        url, stop_redis = start_redis()
    workdir = tempfile.mkdtemp(prefix="bench-class-")
    print(f"tick {args.tick} s, {args.changes} view changes per setting, goal: change->seen p95 <= {GOAL_P95} s")
    try:
        for n in counts:
            if "memory" in stores:
                run_memory(n, args.tick, args.changes)
            if "redis" in stores:
                run_redis(url, n, args.processes, args.tick, args.changes, workdir)
    finally:
        if stop_redis:
            stop_redis()
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
