"""The "before" checkout of a benchmark that compares this checkout with another commit."""
from __future__ import annotations

import contextlib
import pathlib
import subprocess
import tempfile
import time
from typing import Callable

ROOT = pathlib.Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def before(commit_or_folder: str):
    """A checkout's folder as given, or a commit's temporary git worktree (removed afterwards)."""
    given = pathlib.Path(commit_or_folder)
    if given.is_dir():
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(folder), commit_or_folder], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            yield folder
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)


def alternate(commit_or_folder: str, rounds: int, measure: Callable[[pathlib.Path], dict],
              say_rounds: bool = False) -> dict[str, dict[str, list]]:
    """{"before"|"now": {name: [one figure per round]}}: `measure(checkout)` gives {name: figure}
    for a checkout's folder; the "before" checkout and this one take turns, `rounds` rounds each."""
    results: dict[str, dict[str, list]] = {"before": {}, "now": {}}
    with before(commit_or_folder) as folder:
        for _ in range(rounds):
            for which, checkout in (("before", folder), ("now", ROOT)):
                t0 = time.perf_counter()
                for name, figure in measure(checkout).items():
                    results[which].setdefault(name, []).append(figure)
                if say_rounds:
                    print(f"  {which}: a round in {time.perf_counter() - t0:.0f} s", flush=True)
    return results
