"""What `streamlit run app.py` prints for a new user on a machine without internet (issue Q)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import ROOT, free_port

pytestmark = pytest.mark.browser          # starts a real streamlit server


def test_streamlit_run_prints_the_address_and_nothing_that_reads_like_an_error():
    port, closed = free_port(), free_port()
    # requests (which Streamlit asks for the external IP) goes through a proxy that is not there:
    # the machine is offline, whatever this one is.
    env = {**os.environ, "HTTP_PROXY": f"http://127.0.0.1:{closed}", "HTTPS_PROXY": f"http://127.0.0.1:{closed}",
           "NO_PROXY": "", "no_proxy": ""}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline, out = time.time() + 60, ""
            while time.time() < deadline and proc.poll() is None:
                out = os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0).decode(errors="replace")
                if "URL:" in out:
                    break
                time.sleep(0.2)
            time.sleep(3)       # the external-IP lookup takes up to 2 s after the first URL line
            out = os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0).decode(errors="replace")
        finally:
            proc.terminate()
            proc.wait(20)
    assert f"URL: http://localhost:{port}" in out, out
    assert "Did not auto detect external IP" not in out, out
    assert "Traceback" not in out, out
