"""The "before" checkout of a benchmark that compares this checkout with another commit."""
from __future__ import annotations

import contextlib
import pathlib
import subprocess
import tempfile

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
