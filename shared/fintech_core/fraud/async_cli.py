"""`fcl fraud-async`: the async fraud rules as a consumer worker (phase 5 declares it, so
`fcl up` starts it beside phase 2's relay and consumers). Its partitions, offsets, retries and
dead letters are the phase-2 framework's, under the consumer name "fraud-async"."""

from __future__ import annotations

from fintech_core.events.cli import PhaseOpt, _until_signal, _where
from fintech_core.events.runner import ConsumerConfig, ConsumerRunner
from fintech_core.events.topics import topics_for
from fintech_core.fraud.async_rules import FraudAsyncRules


def consume(phase: PhaseOpt = None) -> None:
    """Run the async fraud rules (fan-out, structuring, mule) until stopped (SIGTERM / Ctrl-C).
    Start as many processes as you like: they share the partitions through leases."""
    s, url, bootstrap = _where(phase)
    config = ConsumerConfig(url, bootstrap, topics_for(s), s.event_partitions,
                            s.consumer_max_attempts, s.consumer_backoff_ms,
                            s.consumer_lease_seconds)
    _until_signal([ConsumerRunner(FraudAsyncRules(), config)])
