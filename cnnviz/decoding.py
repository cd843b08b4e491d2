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
import subprocess
import sys
import threading

import numpy as np

from cnnviz.images import ImageError, Picture

__all__ = ["Busy", "SLOTS", "decode"]

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
    env = dict(os.environ)        # this copy of cnnviz, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in [_package_root(), env.get("PYTHONPATH", "")] if p)
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz.decoding", str(int(max_side))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(bytes(data), timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ImageError(f"Reading this image took longer than {TIMEOUT_SECONDS} s, so it was "
                         "stopped.") from None
    return _answer(out, proc.returncode, err, name, source, max_side)


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
    """The child: an image file's bytes on stdin -> a JSON line, then the pixels' float32 bytes."""
    from cnnviz import uploads
    max_side = int(sys.argv[1])
    data = sys.stdin.buffer.read()
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
