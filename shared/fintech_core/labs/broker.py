"""The Kafka-protocol broker a lab's tests run against: always real, never a fake.

Which broker, in order: FINCORE_KAFKA_BOOTSTRAP if set (CI, the repository's test session);
else the embedded broker of a running `make up`; else a throwaway embedded broker started in a
temporary directory for this run only. Tests isolate themselves with fresh topic names, so a
shared broker never leaks one run's messages into the next.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fintech_core.settings import Settings
from fintech_core.stack.broker import EmbeddedBroker
from fintech_core.stack.processes import free_port


@contextlib.contextmanager
def lab_broker() -> Iterator[str]:
    bootstrap = os.environ.get("FINCORE_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    settings = Settings()
    running = EmbeddedBroker(settings.lab_dir, settings.broker_port)
    if running.health().ok:
        yield running.url()
        return
    tmp = Path(tempfile.mkdtemp(prefix="fincore-lab-broker-"))
    broker = EmbeddedBroker(tmp, free_port())
    try:
        broker.start()
        yield broker.url()
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
