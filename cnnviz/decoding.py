"""Decode uploads away from the web server: at most SLOTS at once, each in a short-lived child process.

    >>> from cnnviz import decoding
    >>> pic = decoding.decode(data, name="upload: cat.jpg", source="upload")   # a Picture
    ... # decoding.Busy: every slot is taken (now, not after a wait); ImageError: a refused file

uploads.load_image keeps one decode within DECODE_BUDGET, but the memory a decode touches stays
with the process that decoded it (the allocator keeps it for later): decoding in the web server
left it hundreds of MB larger after a few heavy uploads. Here each decode runs in a fresh Python
process (`python -m cnnviz.decoding`, NumPy and Pillow only) that gets the file's bytes on stdin,
writes the small picture to stdout and exits, so whatever it touched goes back to the system.
The child's answer is read as data (a JSON line and float32 bytes, sizes checked), never
unpickled. A visitor who finds every slot taken is told so at once, without queueing.

Pure Python: no TensorFlow, no Streamlit.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable

import numpy as np

from cnnviz.images import ImageError, Picture

__all__ = ["Busy", "SLOTS", "decode", "decode_many"]

#: Uploads decoded at once in one server process (each within uploads.DECODE_BUDGET).
SLOTS = 2
#: The longest one decode may take before its process is killed (the budget keeps real ones < 2 s).
TIMEOUT_SECONDS = 30
#: The longest side of a decoded picture (uploads.load_image's max_side).
MAX_SIDE = 512

#: Taken for each decode without waiting (tests hold them to fill the server).
slots = threading.BoundedSemaphore(SLOTS)
_BUSY = "The server is busy reading other people's pictures. Please try again in a few seconds."


class Busy(ImageError):
    """Every decoding slot is taken at this moment: try again (not the file's fault)."""


def decode(data: bytes, name: str = "upload", source: str = "upload", max_side: int = MAX_SIDE) -> Picture:
    """uploads.load_image(data) run in a child process, if a slot is free now; else Busy."""
    if not slots.acquire(blocking=False):
        raise Busy(_BUSY)
    try:
        return decode_in_child(data, name, source, max_side)
    finally:
        slots.release()


def decode_in_child(data: bytes, name: str, source: str, max_side: int = MAX_SIDE) -> Picture:
    """uploads.load_image(data) in a fresh process; its ImageError is raised here, word for word."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"Expected the bytes of an image file, got {type(data).__name__}.")
    proc = _start_child(max_side, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(bytes(data), timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ImageError(f"Reading this image took longer than {TIMEOUT_SECONDS} s, so it was "
                         "stopped.") from None
    return _answer(out, proc.returncode, err, name, source, max_side)


def decode_many(files: Iterable[tuple[str, bytes]], max_side: int = MAX_SIDE,
                seconds: float = 60.0) -> list[Picture | ImageError]:
    """uploads.load_image on each (name, bytes) of `files`, one after another in ONE child process
    (a zip of pictures), if a slot is free now; else Busy.

    Returns a Picture or the file's ImageError for each file answered, in order. Files are sent as
    `files` yields them (it may read them lazily, and its own exception stops the child and is
    raised here). The answers stop early, and the list is shorter than `files`, when `seconds`
    have passed or the child failed (killed for memory, ...).
    """
    if not slots.acquire(blocking=False):
        raise Busy(_BUSY)
    try:
        return _decode_many_in_child(files, max_side, seconds)
    finally:
        slots.release()


def _start_child(max_side: int, *extra: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    env = dict(os.environ)        # this copy of cnnviz, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in [_package_root(), env.get("PYTHONPATH", "")] if p)
    return subprocess.Popen([sys.executable, "-m", "cnnviz.decoding", str(int(max_side)), *extra],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)


def _decode_many_in_child(files, max_side: int, seconds: float) -> list[Picture | ImageError]:
    proc = _start_child(max_side, "--many")
    names: list[str] = []
    failed: list[BaseException] = []
    answers: list[Picture | ImageError] = []

    def send() -> None:           # each file as an 8-byte length and its bytes
        try:
            for name, data in files:
                names.append(str(name))
                proc.stdin.write(struct.pack(">Q", len(data)) + bytes(data))
                proc.stdin.flush()
        except BrokenPipeError:   # the child stopped: the answers say how far it got
            pass
        except BaseException as e:    # the caller's reader refused a file: stop, raise it below
            failed.append(e)
            proc.kill()
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def receive() -> None:
        while True:
            head = proc.stdout.readline(1 << 16)
            if not head.endswith(b"\n"):
                return
            try:
                shape = json.loads(head).get("shape", ())
                size = 4 * int(np.prod([int(d) for d in shape])) if shape else 0
            except (ValueError, TypeError, AttributeError):
                return
            if size > 4 * max_side * max_side * 3:
                return
            body = proc.stdout.read(size) if size else b""
            if len(answers) >= len(names):
                return
            try:
                answers.append(_answer(head + body, 0, b"", names[len(answers)], "upload", max_side))
            except ImageError as e:
                answers.append(e)

    sender = threading.Thread(target=send, daemon=True)
    receiver = threading.Thread(target=receive, daemon=True)
    sender.start()
    receiver.start()
    receiver.join(None if seconds == float("inf") else max(0.0, float(seconds)))
    if receiver.is_alive() or proc.poll() is None:   # out of time, or its answers stopped making sense
        proc.kill()
        receiver.join()
    sender.join()
    proc.wait()
    proc.stdout.close()
    if failed:
        raise failed[0]
    return answers


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _answer(out: bytes, code: int, err: bytes, name: str, source: str, max_side: int) -> Picture:
    """The child's stdout -> a Picture or the child's ImageError; anything else is a failure
    of the decoder (killed, crashed), said in one line."""
    head, _, body = out.partition(b"\n")
    try:
        answer = json.loads(head) if code == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        reason = f"exit code {code}" if code >= 0 else f"stopped by signal {-code}"
        raise ImageError(f"The image could not be read here (the decoder failed: {reason}).")
    if "error" in answer:
        raise ImageError(str(answer["error"]))
    shape = tuple(int(d) for d in answer["shape"])
    if not (len(shape) in (2, 3) and 1 <= min(shape[:2]) and max(shape[:2]) <= max_side
            and shape[2:] in ((), (3,)) and len(body) == 4 * int(np.prod(shape))):
        raise ImageError("The image could not be read here (the decoder's answer was malformed).")
    pixels = np.frombuffer(body, np.float32).reshape(shape).copy()
    return Picture(pixels, name, tuple(str(n) for n in answer["notes"]), source)


def _main() -> None:
    """The child: an image file's bytes on stdin -> a JSON line, then the pixels' float32 bytes.
    With --many: files, each as an 8-byte big-endian length and its bytes, answered one by one."""
    max_side = int(sys.argv[1])
    if "--many" not in sys.argv[2:]:
        _answer_one(sys.stdin.buffer.read(), max_side)
        return
    while len(size := sys.stdin.buffer.read(8)) == 8:
        _answer_one(sys.stdin.buffer.read(struct.unpack(">Q", size)[0]), max_side)
        sys.stdout.buffer.flush()


def _answer_one(data: bytes, max_side: int) -> None:
    from cnnviz import uploads
    try:
        pic = uploads.load_image(data, max_side=max_side)
    except ImageError as e:
        sys.stdout.buffer.write(json.dumps({"error": str(e)}).encode() + b"\n")
        return
    pixels = np.ascontiguousarray(pic.pixels, dtype=np.float32)
    sys.stdout.buffer.write(json.dumps({"shape": pixels.shape, "notes": list(pic.notes)}).encode() + b"\n")
    sys.stdout.buffer.write(pixels.tobytes())


if __name__ == "__main__":
    _main()
