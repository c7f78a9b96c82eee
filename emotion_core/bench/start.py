"""Start-up benchmark: how long a teacher waits after pressing Start.

The Train page's Start calls `launch_training`, which makes the run folder and starts the
training as its own process; the page then redraws every 2 s from the run folder. This times,
from that call, what the page can show: the child's first status (it says what it is doing),
the first batch point of the live curve, and the first epoch's dots. The run is stopped once
its first epoch is in, so a FER2013 measurement costs one epoch, not a whole run.
"""

import time

from emotion_core import runs
from emotion_core.config import PRESETS, config_from_flags
from emotion_core.training.launch import launch_training

MARKS = ("first status", "first batch point", "first epoch point")


def bench_start(data, preset, *, root=None, timeout=1800, poll_s=0.05):
    """Seconds from Start to each of MARKS (None when it never came), and the run folder.

    Raises RunError (from launch_training) when a training already runs there.
    """
    config = config_from_flags({"data": str(data)}, preset=preset)
    started = time.perf_counter()
    run_dir = launch_training(config, root=root, recipe=preset, name=f"start-up bench, {preset}")
    seen = {}
    try:
        while time.perf_counter() - started < timeout and len(seen) < len(MARKS):
            status = runs.read_status(run_dir)
            now = time.perf_counter() - started
            if "first status" not in seen and status.get("phase"):
                seen["first status"] = now
            if "first batch point" not in seen and runs.read_metrics(run_dir, batches=True):
                seen["first batch point"] = now
            if "first epoch point" not in seen and runs.read_metrics(run_dir):
                seen["first epoch point"] = now
            if status["state"] not in (runs.RUNNING,):
                break
            time.sleep(poll_s)
    finally:
        runs.request_stop(run_dir)
    return {"data": str(data), "preset": preset, "epochs": PRESETS[preset].epochs, "run": str(run_dir),
            "seconds": {mark: seen.get(mark) for mark in MARKS}}


def format_start(result):
    lines = [f"Start -> the Train page's first signs ({result['preset']} preset on {result['data']}):"]
    for mark, seconds in result["seconds"].items():
        lines.append(f"  {mark:<18} " + (f"{seconds:7.1f} s" if seconds is not None else "    never"))
    return "\n".join(lines)
