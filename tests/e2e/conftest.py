"""E2E fixtures shared by several modules of this package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fintech_core.stack.lab import Lab
from fintech_core.stack.session import LabSession
from tests.integration.payments_support import payments_session


@pytest.fixture(scope="package")
def payments_stack(lab: Lab) -> Iterator[LabSession]:
    """One phase-3 session on the test servers (API, relay, consumers, provider simulator,
    payments worker) for the modules that each started the same one: the payment flows, the
    saga and the payment drills. They already shared its database; each test opens accounts of
    its own, resets the simulator's knobs, and restarts the API or a worker it killed. Started
    on first use, stopped after the package's last test (a start and a stop cost ~15 s)."""
    yield from payments_session(lab, simulator=True)
