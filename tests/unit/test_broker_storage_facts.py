"""The broker-storage verdict and table (events/storage_facts.py) and the S3 request signer."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from fintech_core.events.storage_facts import decide, end_offsets_correct, rows, survived
from fintech_core.stack.s3sign import sigv4_headers


def _run(storage: str, **over: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "storage": storage, "start_s": 0.1, "rss_mb": 20.0, "end_offsets_correct": False,
        "probe_end_offsets_correct": False, "lag_ms": {"p50": 30.0, "p99": 60.0},
        "publish_lag_ms": {"p50": 10.0, "p99": 20.0}, "send_ms": {"p50": 5.0, "p99": 9.0},
        "produce": {"per_second": 2000.0},
        "restart": {"ready_s": 0.1, "requeued": 0, "backlog": 10, "group_offset": "kept",
                    "offsets_reset": False, "records_after": 10, "events_after": 10,
                    "applied_once": True, "drain_s": 1.0,
                    "survived": {"topic": True, "topic_id": True, "records": True}}}
    for k, v in over.items():
        run[k] = v
    return run


def test_end_offsets_are_correct_only_when_every_partition_matches() -> None:
    assert end_offsets_correct({0: 5, 1: 3}, {0: 5, 1: 3})
    assert not end_offsets_correct({0: 1, 1: 1}, {0: 5, 1: 3})
    assert not end_offsets_correct({0: 5}, {0: 5, 1: 3})  # a partition the broker left out
    assert end_offsets_correct({0: 0}, {})  # an empty partition reads no record


def test_a_restart_survives_only_with_the_same_topic_id_and_every_record() -> None:
    before = {"topic_exists": True, "topic_id": "a", "records": 7}
    assert survived(before, dict(before)) == {"topic": True, "topic_id": True, "records": True}
    recreated = {"topic_exists": True, "topic_id": "b", "records": 0}
    assert survived(before, recreated) == {"topic": True, "topic_id": False, "records": False}
    gone = {"topic_exists": False, "topic_id": None, "records": 0}
    assert survived(before, gone) == {"topic": False, "topic_id": False, "records": False}
    # Nothing was there to keep: "records survived" must not be a vacuous yes.
    empty = {"topic_exists": True, "topic_id": "a", "records": 0}
    assert survived(empty, dict(empty))["records"] is False


def test_s3_is_the_default_only_when_it_costs_nothing_above_the_bounds() -> None:
    memory = _run("memory")
    assert decide(memory, _run("s3"))[0] == "default"
    heavy = _run("s3", rss_mb=220.0)
    verdict, why = decide(memory, heavy)
    assert verdict == "option" and any("MB more memory" in w for w in why)
    slow = _run("s3", start_s=4.0)
    assert decide(memory, slow)[0] == "option"
    laggy = _run("s3", lag_ms={"p50": 100.0, "p99": 300.0})
    assert decide(memory, laggy)[0] == "option"


def test_s3_that_loses_data_on_restart_is_rejected() -> None:
    lossy = _run("s3")
    lossy["restart"] = deepcopy(lossy["restart"])
    lossy["restart"]["survived"]["records"] = False
    assert decide(_run("memory"), lossy)[0] == "no"


def test_wrong_end_offsets_alone_do_not_block_the_default_but_are_named() -> None:
    verdict, why = decide(_run("memory"), _run("s3", end_offsets_correct=False))
    assert verdict == "default" and any("end offsets" in w for w in why)


def test_the_table_has_one_row_per_measure_with_both_storages() -> None:
    table = rows(_run("memory"), _run("s3", rss_mb=220.0))
    assert all(len(r) == 3 for r in table)
    by_name = {r[0]: r[1:] for r in table}
    assert by_name["processes"] == ("tansu", "tansu + weed")
    assert by_name["RSS after the run (MB)"] == ("20", "220")


def test_the_signature_depends_on_the_secret_the_time_and_the_path() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a = sigv4_headers("HEAD", "http://127.0.0.1:9/b", "k", "s1", "us-east-1", now=at)
    assert a["x-amz-date"] == "20260102T030405Z"
    assert a["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=k/20260102/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=")
    assert a == sigv4_headers("HEAD", "http://127.0.0.1:9/b", "k", "s1", "us-east-1", now=at)
    for other in (sigv4_headers("HEAD", "http://127.0.0.1:9/b", "k", "s2", "us-east-1", now=at),
                  sigv4_headers("HEAD", "http://127.0.0.1:9/c", "k", "s1", "us-east-1", now=at)):
        assert other["authorization"] != a["authorization"]
