"""What the payments slice keeps per process: one client per provider (connection pools), and
the switches a use case needs from the container. Built on first use from the container; the
API and the payments worker each have their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fintech_core.payments.adapters.ledgerpay import LedgerPay
from fintech_core.payments.adapters.stripeish import Stripeish
from fintech_core.payments.credentials import CredentialStore
from fintech_core.payments.errors import UnknownProvider
from fintech_core.payments.ports import PaymentProvider

if TYPE_CHECKING:
    from fintech_core.container import Container

PROVIDERS = ("ledgerpay", "stripeish")


@dataclass
class Runtime:
    c: Container
    outbox: bool
    providers: dict[str, PaymentProvider] = field(default_factory=dict)

    def provider(self, name: str) -> PaymentProvider:
        if name not in PROVIDERS:
            raise UnknownProvider(f"no provider named {name!r}; known: {', '.join(PROVIDERS)}",
                                  provider=name)
        if name not in self.providers:
            s = self.c.settings
            base = f"http://{s.provider_host}:{s.provider_port}"
            store = CredentialStore(s.lab_dir, name)
            self.providers[name] = (
                LedgerPay(base, store, s.provider_timeout_ms) if name == "ledgerpay" else
                Stripeish(base, store, s.provider_timeout_ms,
                          s.provider_webhook_tolerance_seconds))
        return self.providers[name]

    async def close(self) -> None:
        for p in self.providers.values():
            await p.close()
        self.providers.clear()


def lease_seconds(settings: Any) -> float:
    """How long a driver owns a resource: never shorter than a provider call can take (twice:
    a poll then a re-send), or the worker would resume a request still waiting for its answer."""
    return max(float(settings.payments_lease_seconds),
               2 * settings.provider_timeout_ms / 1000 + 1)


_runtimes: dict[int, Runtime] = {}


def runtime_of(c: Container) -> Runtime:
    """One runtime per container (per process in practice): its HTTP clients are reused."""
    found = _runtimes.get(id(c))
    if found is None or found.c is not c:
        found = _runtimes[id(c)] = Runtime(c, "outbox" in c.composition.extensions)
    return found
