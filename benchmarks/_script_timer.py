"""Time each Streamlit script run inside the script thread (server side), for AppTest benchmarks."""
import time

SCRIPT_TIMES: list[tuple[float, float]] = []
"""(wall ms, CPU ms of the script thread) per script run; CPU time is steadier on a busy machine."""


def time_script_runs() -> None:
    """Wrap Streamlit's ScriptRunner._run_script so every run appends to SCRIPT_TIMES (once)."""
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script
    if getattr(original, "_timed", False):
        return

    def timed(self, rerun_data):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, rerun_data)
        finally:
            SCRIPT_TIMES.append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))

    timed._timed = True
    script_runner.ScriptRunner._run_script = timed
