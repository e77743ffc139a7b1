"""Broker storage, memory vs s3: the figures of one measurement run, the verdict and the table.
Pure: no I/O (storage_bench.py measures; this judges and renders).

The verdict follows the lab's rule: s3 storage becomes the embedded default only if it makes the
lab simpler or sturdier at an acceptable cost on an 8 GB laptop. Sturdier means a broker restart
keeps the topics with the same ids and the records, so the relay re-queues nothing. It is
weighed against what it costs: one more process, its memory and start time, and the produce
latency every relay batch pays.
"""

from __future__ import annotations

from typing import Any

# What s3 may cost at most and still be the default: a `make up` a few seconds longer, a few
# hundred MB on a laptop that runs PostgreSQL, Redis, the API and a browser.
MAX_EXTRA_START_S = 3.0
MAX_EXTRA_RSS_MB = 150.0
MAX_LAG_RATIO = 2.0  # p50 commit-to-consume lag, s3 over memory


def end_offsets_correct(reported: dict[int, int], records: dict[int, int]) -> bool:
    """The broker's end offset of every partition equals the records read from it (topics
    written once from offset 0, so the last offset + 1 is the record count)."""
    parts = set(reported) | set(records)
    return all(reported.get(p, 0) == records.get(p, 0) for p in parts)


def survived(before: dict[str, Any], after: dict[str, Any]) -> dict[str, bool]:
    """What a broker restart kept: the topic, its broker id (the incarnation the relay
    records), and every record."""
    return {"topic": after["topic_exists"],
            "topic_id": after["topic_exists"] and after["topic_id"] == before["topic_id"],
            "records": after["records"] == before["records"] > 0}


def decide(memory: dict[str, Any], s3: dict[str, Any]) -> tuple[str, list[str]]:
    """"default", "option" or "no", and why, from the two runs' figures."""
    why: list[str] = []
    kept = all(s3["restart"]["survived"].values())
    if not kept:
        return "no", ["s3 storage lost data on a broker restart"]
    if s3["restart"]["requeued"] > 0:
        why.append(f"the relay re-queued {s3['restart']['requeued']} events with s3")
    extra_start = s3["start_s"] - memory["start_s"]
    extra_rss = s3["rss_mb"] - memory["rss_mb"]
    lag_ratio = s3["lag_ms"]["p50"] / max(memory["lag_ms"]["p50"], 0.1)
    if extra_start > MAX_EXTRA_START_S:
        why.append(f"`make up` {extra_start:.1f} s longer (bound {MAX_EXTRA_START_S} s)")
    if extra_rss > MAX_EXTRA_RSS_MB:
        why.append(f"{extra_rss:.0f} MB more memory (bound {MAX_EXTRA_RSS_MB:.0f} MB)")
    if lag_ratio > MAX_LAG_RATIO:
        why.append(f"commit-to-consume lag p50 x{lag_ratio:.1f} (bound x{MAX_LAG_RATIO})")
    if not (s3["end_offsets_correct"] and s3["probe_end_offsets_correct"]):
        why.append("end offsets still wrong: progress stays counted in PostgreSQL")
    costs = [w for w in why if not w.startswith("end offsets")]
    if costs:
        return "option", why
    return "default", why or ["no cost above the bounds, and restarts keep the topics"]


def _ms(x: float) -> str:
    return f"{x:,.1f}"


def rows(memory: dict[str, Any], s3: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, memory, s3): the table the CLI prints and the README quotes."""
    def both(f: Any) -> tuple[str, str]:
        return f(memory), f(s3)

    def yes(b: bool) -> str:
        return "yes" if b else "no"

    table = [
        ("processes", *both(lambda r: "tansu" if r["storage"] == "memory" else "tansu + weed")),
        ("start, cold (s)", *both(lambda r: f"{r['start_s']:.2f}")),
        ("broker restart, ready (s)", *both(lambda r: f"{r['restart']['ready_s']:.2f}")),
        ("RSS after the run (MB)", *both(lambda r: f"{r['rss_mb']:.0f}")),
        ("produce, relay producer, batches of 500 (records/s)",
         *both(lambda r: f"{r['produce']['per_second']:,.0f}")),
        ("one acked send, p50 / p99 (ms)",
         *both(lambda r: f"{_ms(r['send_ms']['p50'])} / {_ms(r['send_ms']['p99'])}")),
        ("commit -> published (relay acked), p50 / p99 (ms)",
         *both(lambda r: f"{_ms(r['publish_lag_ms']['p50'])} / "
                         f"{_ms(r['publish_lag_ms']['p99'])}")),
        ("commit -> consumed, p50 / p99 (ms)",
         *both(lambda r: f"{_ms(r['lag_ms']['p50'])} / {_ms(r['lag_ms']['p99'])}")),
        ("restart keeps topic / topic id / records",
         *both(lambda r: " / ".join(yes(v) for v in r["restart"]["survived"].values()))),
        ("broker-committed offset kept", *both(lambda r: str(r["restart"]["group_offset"]))),
        ("events published, unconsumed at the restart / re-queued by the relay",
         *both(lambda r: f"{r['restart']['backlog']} / {r['restart']['requeued']}")),
        ("consumer offsets reset to 0", *both(lambda r: yes(r["restart"]["offsets_reset"]))),
        ("records delivered / distinct events after restart",
         *both(lambda r: f"{r['restart']['records_after']} / {r['restart']['events_after']}")),
        ("each event applied once", *both(lambda r: yes(r["restart"]["applied_once"]))),
        ("consumers started after the restart: caught up in (s)",
         *both(lambda r: f"{r['restart']['drain_s']:.1f}")),
        ("end offsets correct: events topic / batched probe topic",
         *both(lambda r: f"{yes(r['end_offsets_correct'])} / "
                         f"{yes(r['probe_end_offsets_correct'])}")),
    ]
    return table
