"""A probe, not part of the service: CPU time the cyclic garbage collector takes in a process.

`./fcl bench-profile --gc` puts this directory first on the API's
PYTHONPATH, so every uvicorn worker imports it at start-up (Python imports `sitecustomize`
automatically). It times each collection with `time.thread_time()` (CPU, not wall: a loaded
machine does not inflate it) and writes its totals as JSON to FCL_GC_PROBE_DIR/<pid>.json,
at most once a second, from the collector's own callback.
"""

import gc
import json
import os
import sys
import time

_DIR = os.environ.get("FCL_GC_PROBE_DIR")
_cpu_seconds = [0.0, 0.0, 0.0]  # per generation
_collections = [0, 0, 0]
_state = {"started": 0.0, "written": 0.0}


def _callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _state["started"] = time.thread_time()
        return
    generation = info["generation"]
    _cpu_seconds[generation] += time.thread_time() - _state["started"]
    _collections[generation] += 1
    now = time.monotonic()
    if _DIR and now - _state["written"] > 1.0:
        _state["written"] = now
        with open(os.path.join(_DIR, f"{os.getpid()}.json"), "w") as out:
            json.dump({"cpu_seconds": _cpu_seconds, "collections": _collections,
                       "argv": " ".join(sys.argv)[:300]}, out)


gc.callbacks.append(_callback)
