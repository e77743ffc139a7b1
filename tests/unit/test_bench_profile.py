"""bench/profile_api.py's reading of py-spy's raw samples: which process, which layer."""

from __future__ import annotations

from fintech_core.bench.profile_api import OTHER, attribute, layer_of

MASTER = 'process 10:"python -m uvicorn app --workers 2"'
# A uvicorn worker's command line has `;` in it, like the separator of frames.
WORKER = 'process 11:"python -B -c from multiprocessing.spawn import spawn_main; spawn_main(7)"'
LOOP = "Runner.run (asyncio/runners.py:118)"


def test_a_frame_belongs_to_the_first_layer_its_path_names() -> None:
    assert layer_of("flush (/repo/shared/fintech_core/db/write_behind.py:89)").startswith("lab")
    assert layer_of("dump (psycopg/_queries.py:103)").startswith("psycopg")
    assert layer_of("send (uvicorn/protocols/http/httptools_impl.py:524)").startswith("HTTP")
    assert layer_of("iterencode (json/encoder.py:258)").startswith("JSON")
    assert layer_of("uuid4 (uuid.py:723)") is None  # stdlib: its caller pays


def test_samples_go_to_the_innermost_layer_of_the_workers_only() -> None:
    raw = "\n".join([
        f"{MASTER};{WORKER};{LOOP};run (fintech_core/transfers/pipeline.py:123);uuid4 (uuid.py:7) 5",
        f"{MASTER};{WORKER};{LOOP};dump (psycopg/_queries.py:103) 3",
        f"{MASTER};{WORKER};hashlib_thing (hashlib.py:1) 2",
        f"{MASTER};_recv (multiprocessing/connection.py:395) 50",  # the supervisor waits
        "garbage line",
    ])
    layers, leaves, total = attribute(raw, {11})
    assert total == 10
    assert layers["lab code (fintech_core, phases)"] == 5 and layers["psycopg (driver, pool)"] == 3
    assert layers[OTHER] == 2
    assert leaves["uuid4 (uuid.py:7)"] == 5
