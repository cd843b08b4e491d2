"""A live class under load (issue L): does every following student see the teacher's change
within 1 s, is every answer counted, and what does a following student cost the server?

Through real sessions (--level sessions; benchmarks/class_sessions.py drives them with the
protocol client of benchmarks/loadgen.py): deploy/run_balanced.sh starts the app (1 process
with the embedded store, and 2 processes with `-r`, Redis, behind HAProxy), warmed and settled.
  * The teacher opens /class and starts a class; N students (30 on one process, 60 on two) open
    the join link /class?room=CODE, ten at a time, type a nickname and join. Every tab reruns its
    st.fragment(run_every=...) fragments on their intervals, as the browser's timers do (a
    student's look, every 10 s; the teacher's counts, every 1 s), and follows the runs the server
    starts: the process's class watcher starts a follower's run at the teacher's view.
  * The teacher makes --changes changes (after the reference below; open /convolution, change its stride or padding, visit
    Home and come back), 0.5-1 s after every student shows the last one (at most 5 s), then
    opens /class. Latency of a (change, student) pair: from the teacher sending the change to the
    end of the student's first run that shows the teacher's page with the teacher's settings.
    The teacher's rerun latency of each change is recorded too (goal p95 <= 300 ms).
  * The teacher asks the lesson question shown on /class; each student answers with a random
    choice when its page shows the question; the teacher's page must count all N. With two
    processes, the one the teacher is not on is then killed (SIGKILL): its students' tabs
    reload (same cookies and address: HAProxy sends them to the other process) and must be back
    in the room, following, with their answer kept. The teacher reveals; the revealed count of
    the right answer must equal the students' own choices.
  * The same run's reference: before the class joins, one student follows 4 changes alone.
  * Server CPU (all app processes) while one student follows and while the class follows; the
    difference per further following student.

Store level (--level store; no Streamlit): the rooms of cnnviz.classroom as the pages use them,
on the embedded MemoryStore (students are threads of the teacher's process, as sessions of one
Streamlit process are) and on a real redis-server (students spread over --processes
processes, as sessions behind the balancer are):
  * The teacher starts a room; N students join with a nickname (N = 30 and 60 by default).
  * Each student ticks every --tick seconds (a random phase each): view(), poll() and seen().
  * The teacher changes the view --changes times, 2 ticks + 0.3-0.7 s apart. Latency = the
    moment a student's tick first returns the new version minus the moment the teacher's
    set_view() began; it includes waiting for the next tick (up to one tick), plus the store.
  * The teacher asks a question; each student answers it (a random choice) on its next tick.
    The teacher reads poll() until every answer is counted (or 10 s), reveals, and the revealed
    counts are compared with the choices the students report.

The machine may be shared: compare settings within one run, not with other runs.

Usage:
  python benchmarks/bench_class.py                       # both levels, every setting
  python benchmarks/bench_class.py --level sessions --one 30 --two 60 --changes 10
  python benchmarks/bench_class.py --level store --stores redis --students 60 --processes 2
  options: --port-base P (apps on P+1.., balancer P+10), --redis-port, --redis-url (store level)
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import pathlib
import random
import signal
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cnnviz.classroom import Rooms  # noqa: E402
from cnnviz.classroom.store import MemoryStore, RedisStore  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_load  # noqa: E402
import class_sessions as cs  # noqa: E402
import loadgen  # noqa: E402

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


# --------------------------------------------------------------------------- real sessions

def teacher_plan(i: int, rng: random.Random):
    """The teacher's i-th change: open /convolution, then change its stride or padding, now and
    then visiting Home and coming back (each a change of the view students follow)."""
    if i == 0:
        return lambda s: s.goto("/convolution")
    step = (i - 1) % 5
    if step == 3:
        return lambda s: s.goto("/")
    if step == 4:
        return lambda s: s.goto("/convolution")

    def change(s):
        w = s.find("conv_padding" if step == 1 else "conv_stride")
        return s.set(w, w.random_value(s.states.get(w.id), rng))
    return change


async def _wait(condition, most: float) -> float:
    began = time.perf_counter()
    while not condition() and time.perf_counter() - began < most:
        await asyncio.sleep(0.05)
    return time.perf_counter() - began


def _server_cpu(pids: list[int]) -> float:
    return sum(loadgen.cpu_seconds(p) for p in pids if os.path.exists(f"/proc/{p}"))


REFERENCE_CHANGES = 4      # made with one student following, before the class joins


async def lead(teacher: cs.Member, followers: list, actions: list, pids: list[int], rng: random.Random):
    """The teacher's changes, each 0.5-1 s after every follower shows it (at most 5 s): the log
    of (sent, teacher's view), the teacher's runs, the CPU rates meanwhile of the servers and of
    this load generator."""
    log, runs = [], []
    cpu, own, began_all = _server_cpu(pids), time.process_time(), time.perf_counter()
    for action in actions:
        began = time.perf_counter()
        runs.append(await teacher.act(action))
        target = teacher.view
        log.append((began, target))
        await _wait(lambda: all(m.view == target for m in followers), 5.0)
        await asyncio.sleep(rng.uniform(0.5, 1.0))
    took = time.perf_counter() - began_all
    return log, runs, ((_server_cpu(pids) - cpu) / took, (time.process_time() - own) / took, took)


def seen_after(log: list, followers: list, histories: dict) -> tuple[list[float], int]:
    """Seconds from each change to each follower's first run showing it; and the pairs where the
    follower did not show it before the next change."""
    seen, missed = [], 0
    for k, (began, target) in enumerate(log):
        end = log[k + 1][0] if k + 1 < len(log) else float("inf")
        for m in followers:
            times = [t for t, view in histories[m.number] if view == target and began <= t < end]
            if times:
                seen.append(times[0] - began)
            else:
                missed += 1
    return seen, missed


def _latency(runs) -> list[float]:
    return [r.latency for r in runs if r.latency is not None]


async def class_over_sessions(url: str, n: int, changes: int, pids: list[int], backends: dict[str, int],
                              kill: bool) -> dict:
    """One class: the teacher starts it; one student joins and follows REFERENCE_CHANGES changes
    alone (the same run's reference); the other n - 1 join by the link and all follow `changes`
    changes; they answer a question (one app process killed before the reveal when `kill`);
    the reveal."""
    rng = random.Random(2)
    teacher = cs.Member(url, 0)
    code = await cs.start_class(teacher)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(teacher.tick(stop))]
    histories: dict[int, list] = {}

    async def after_run(m):
        history = histories.setdefault(m.number, [])
        if not history or history[-1][1] != m.view:
            history.append((time.perf_counter(), m.view))
        await cs.answer_if_asked(m)

    def follow(members) -> None:
        for m in members:
            m.after_run = after_run
            tasks.append(asyncio.create_task(m.tick(stop)))

    students = [cs.Member(url, i + 1, f"student{i + 1:02d}") for i in range(n)]
    first = await cs.join(students[0], code)
    assert "seat=" in students[0].s.query_string, first.errors + first.exceptions
    follow(students[:1])
    await asyncio.sleep(2)
    plan = [teacher_plan(i, rng) for i in range(REFERENCE_CHANGES + changes)]
    ref_log, ref_runs, (ref_rate, _, _) = await lead(teacher, students[:1], plan[:REFERENCE_CHANGES], pids, rng)

    gate = asyncio.Semaphore(10)

    async def join(m):
        async with gate:
            return await cs.join(m, code)
    joins = await asyncio.gather(*(join(m) for m in students[1:]))
    joined = [students[0]] + [m for m in students[1:] if "seat=" in m.s.query_string]
    join_errors = [e for r in joins for e in r.errors + r.exceptions]
    follow(joined[1:])
    await asyncio.sleep(2)
    log, teacher_runs, (follow_rate, loadgen_rate, took) = await lead(teacher, joined, [*plan[REFERENCE_CHANGES:], lambda s: s.goto("/class")],
                                                pids, rng)

    run = await teacher.act(lambda s: s.click(s.find("class_ask_lesson")))
    assert run.ok, run.errors + run.exceptions

    def counted() -> int:
        found = cs.ANSWERED.search(teacher.s.text())
        return int(found.group(1)) if found else 0
    all_counted = await _wait(lambda: counted() >= len(joined) and all(m.answer for m in joined), 60.0)
    unanswered = [_why_no_answer(m) for m in joined if not m.answer]

    killed = []
    if kill:
        mine = teacher.s.cookies.get("CNNVIZ_BACKEND")
        victim = next(name for name in backends if name != mine)
        killed = [m for m in joined if m.s.cookies.get("CNNVIZ_BACKEND") == victim]
        os.kill(backends[victim], signal.SIGKILL)
        await _wait(lambda: all(m.reconnects for m in killed), 120.0)
        await asyncio.sleep(2)
    run = await teacher.act(lambda s: s.click(s.find("class_reveal_page")))
    revealed = next((cs.REVEALED.search(a) for a in cs.alerts(teacher.s) if cs.REVEALED.search(a)), None)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for m in [teacher, *students]:
        await m.close()

    ref_seen, _ = seen_after(ref_log, students[:1], histories)
    seen, missed = seen_after(log, joined, histories)
    ticks = _latency(r for m in joined for r in m.fragment_runs)
    change_runs, ref_change_runs = _latency(teacher_runs), _latency(ref_runs)
    right_label, right_count, answered = (revealed.group(1), int(revealed.group(2)), int(revealed.group(3))) \
        if revealed else (None, -1, -1)
    reconnects = [r for m in killed for r in m.reconnects[:1]]
    return {
        "students": n, "joined": len(joined), "join_errors": join_errors[:3],
        "changes": len(log), "seen_pairs": len(seen), "missed_pairs": missed,
        "seen_p50_s": percentile(seen, 0.5), "seen_p95_s": percentile(seen, 0.95), "seen_max_s": max(seen, default=float("nan")),
        "ref_seen_p50_s": percentile(ref_seen, 0.5), "ref_seen_max_s": max(ref_seen, default=float("nan")),
        "teacher_p50_s": percentile(change_runs, 0.5), "teacher_p95_s": percentile(change_runs, 0.95),
        "ref_teacher_p50_s": percentile(ref_change_runs, 0.5), "ref_teacher_max_s": max(ref_change_runs, default=float("nan")),
        "tick_p50_s": percentile(ticks, 0.5), "tick_p95_s": percentile(ticks, 0.95),
        "answered": answered, "students_answered": sum(1 for m in joined if m.answer),
        "right_count_matches": right_count == sum(1 for m in joined if m.answer == right_label),
        "all_counted_s": all_counted, "unanswered": unanswered,
        "cpu_one_follower": ref_rate, "cpu_following": follow_rate,
        "cpu_per_student": (follow_rate - ref_rate) / max(len(joined) - 1, 1), "cpu_loadgen": loadgen_rate,
        "cpu_ms_per_pair": 1000 * (follow_rate - ref_rate) * took / max(len(log) * (len(joined) - 1), 1),
        "load_average": os.getloadavg()[0],
        "killed": len(killed), "reloaded": sum(r["ok"] for r in reconnects),
        "back_in_room": sum(r["in_room"] for r in reconnects), "back_following": sum(r["following"] for r in reconnects),
        "answers_kept": sum(r["answer_kept"] for r in reconnects),
        "reload_p95_s": percentile([r["seconds"] for r in reconnects], 0.95),
        "reload_errors": [e for r in reconnects for e in r["errors"]][:3],
    }


def _why_no_answer(m: cs.Member) -> str:
    """What a student who never answered shows: its page, the question's radio, its last runs."""
    radio = m.s.find(prefix="class_answer_")
    state = "no question" if radio is None else (
        f"radio {'disabled' if radio.disabled else 'enabled'}, held {m.s.states.get(radio.id)!r}")
    runs = [status for _, status in m.server_runs[-3:]] + [r.status for r in m.fragment_runs[-2:]]
    return (f"{m.nickname}: {m.s.page}, {state}, last runs {runs}, closed {m.s.closed_reason}, "
            f"{m.s.text()[:120]!r}")


def print_sessions(title: str, r: dict) -> None:
    print(f"\n{title}: {r['joined']}/{r['students']} joined{' ' + str(r['join_errors']) if r['join_errors'] else ''}")
    print(f"  teacher's change -> a following student's page shows it: p50 {r['seen_p50_s']:.2f} s, "
          f"p95 {r['seen_p95_s']:.2f} s, max {r['seen_max_s']:.2f} s over {r['seen_pairs']} (change, student) "
          f"pairs, {r['missed_pairs']} not shown before the next change (goal p95 <= {GOAL_P95} s); "
          f"same run, one student following alone: p50 {r['ref_seen_p50_s']:.2f} s, max {r['ref_seen_max_s']:.2f} s")
    print(f"  the teacher's reruns (its changes): p50 {r['teacher_p50_s'] * 1000:.0f} ms, p95 "
          f"{r['teacher_p95_s'] * 1000:.0f} ms (goal p95 <= 300 ms; with one student: p50 "
          f"{r['ref_teacher_p50_s'] * 1000:.0f} ms, max {r['ref_teacher_max_s'] * 1000:.0f} ms); students' "
          f"look runs (the tab's own timer) p50 {r['tick_p50_s'] * 1000:.0f} ms, p95 {r['tick_p95_s'] * 1000:.0f} ms")
    print(f"  answers: the teacher's page counted {r['answered']} (students answered {r['students_answered']}), "
          f"all counted {r['all_counted_s']:.1f} s after asking; the right answer's count "
          f"{'matches' if r['right_count_matches'] else 'DIFFERS from'} the students' choices")
    for why in r["unanswered"][:5]:
        print(f"    no answer: {why}")
    print(f"  server CPU: {r['cpu_one_follower'] * 100:.0f}% of a core while one student follows, "
          f"{r['cpu_following'] * 100:.0f}% while the class follows: "
          f"{r['cpu_per_student'] * 100:.2f}% of a core per further following student, "
          f"{r['cpu_ms_per_pair']:.0f} ms of CPU per further student per change, its look runs included (the load generator: "
          f"{r['cpu_loadgen'] * 100:.0f}%; machine load average {r['load_average']:.1f} on {os.cpu_count()} cores)")
    if r["killed"]:
        print(f"  one app process killed: {r['killed']} students on it reloaded ({r['reloaded']} ok, "
              f"p95 {r['reload_p95_s']:.1f} s), {r['back_in_room']} back in the room, "
              f"{r['back_following']} following, {r['answers_kept']} with their answer kept "
              f"{r['reload_errors'] or ''}")


def run_sessions(processes: int, n: int, changes: int, redis_port: int | None, ports: list[int] | None,
                 front: int | None, kill: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_REDIS_URL"}
    args = ("-r", str(redis_port)) if redis_port else ()
    deployment = bench_load.Balanced(ROOT / "app.py", processes, args=args, ports=ports, port=front, env=env)
    try:
        rows = [r.split() for r in (deployment.logs / "backends").read_text().split("\n") if r.strip()]
        backends = {name: int(pid) for name, _, pid in rows}
        print(f"settled after {bench_load.settle(deployment.pids):.0f} s", flush=True)
        result = asyncio.run(class_over_sessions(deployment.url, n, changes, deployment.pids, backends, kill))
    finally:
        tracebacks = deployment.stop()
    result["tracebacks"] = tracebacks
    store = f"Redis ({'run_balanced.sh -r'})" if redis_port else "the embedded store"
    print_sessions(f"{n} students, {processes} app process{'es' if processes > 1 else ''} behind HAProxy, {store}", result)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--level", choices=["sessions", "store", "both"], default="both")
    ap.add_argument("--changes", type=int, default=10, help="the teacher's view changes")
    sess = ap.add_argument_group("sessions (real Streamlit processes)")
    sess.add_argument("--one", type=int, default=30, help="students on 1 process, embedded store (0: skip)")
    sess.add_argument("--two", type=int, default=60, help="students on 2 processes + Redis (0: skip)")
    sess.add_argument("--no-kill", action="store_true", help="do not kill an app process before the reveal")
    sess.add_argument("--port-base", type=int, default=0,
                      help="app processes on PORT+1.., the balancer on PORT+10 (default: free ports)")
    store = ap.add_argument_group("store level")
    store.add_argument("--stores", default="memory,redis")
    store.add_argument("--students", default="30,60")
    store.add_argument("--processes", type=int, default=2, help="student processes on Redis")
    store.add_argument("--tick", type=float, default=0.5, help="seconds between a student's polls")
    ap.add_argument("--redis-port", type=int, default=0, help="for the redis-server this script starts")
    ap.add_argument("--redis-url", default="", help="store level: an existing Redis")
    args = ap.parse_args()
    if args.redis_port:
        os.environ["CNNVIZ_TEST_REDIS_PORTS"] = str(args.redis_port)
    if args.level in ("sessions", "both"):
        ports = (lambda k: [args.port_base + i + 1 for i in range(k)]) if args.port_base else (lambda k: None)
        front = args.port_base + 10 if args.port_base else None
        print(f"A live class through real sessions (the teacher makes {args.changes} changes, then asks)", flush=True)
        if args.one:
            run_sessions(1, args.one, args.changes, None, ports(1), front, False)
        if args.two:
            run_sessions(2, args.two, args.changes, args.redis_port or loadgen.free_port(), ports(2), front,
                         not args.no_kill)
    if args.level in ("store", "both"):
        run_store_level(args)


def run_store_level(args) -> None:
    stores = args.stores.split(",")
    stop_redis = None
    url = args.redis_url
    if "redis" in stores and not url:
        from redis_server import start_redis
        url, stop_redis = start_redis()
    workdir = tempfile.mkdtemp(prefix="bench-class-")
    print(f"\nStore level: tick {args.tick} s, {args.changes} view changes per setting, "
          f"goal: change->seen p95 <= {GOAL_P95} s", flush=True)
    try:
        for n in [int(k) for k in args.students.split(",")]:
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
