"""The provider credentials the API holds: each personality's API key and webhook secrets,
read from `<lab_dir>/provider/secrets.json`, whose format the simulator's
`fintech_core.provider_sim.secrets` owns (never in the repository, never in settings).

Secrets rotate (newest first; the provider signs with every live one), so a webhook that does not
verify with the secrets we hold makes us read the file again once, before calling it forged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    api_key: str
    webhook_secrets: tuple[str, ...]  # newest first


def _read(lab_dir: Path, provider: str) -> Credentials:
    from fintech_core.provider_sim.secrets import load_or_create  # owned by the simulator

    entry = load_or_create(lab_dir).of(provider)
    return Credentials(entry.api_key, tuple(entry.webhook_secrets))


class CredentialStore:
    def __init__(self, lab_dir: Path, provider: str) -> None:
        self.lab_dir, self.provider = lab_dir, provider
        self._lock = threading.Lock()
        self._current: Credentials | None = None

    def get(self) -> Credentials:
        with self._lock:
            if self._current is None:
                self._current = _read(self.lab_dir, self.provider)
            return self._current

    def reload(self) -> Credentials:
        with self._lock:
            self._current = _read(self.lab_dir, self.provider)
            return self._current
