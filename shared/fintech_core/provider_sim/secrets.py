"""The provider's secrets: API keys, webhook signing secrets and the admin key, in one file.

`<lab_dir>/provider/secrets.json` (mode 0600) is written on first use by whichever process needs
it first (the simulator or the API), never committed and never a settings default. Both sides
read it; this module alone owns its format:

    {"admin_key": "adm_...",
     "providers": {"ledgerpay": {"api_key": "lp_...", "webhook_secrets": ["whsec_...", ...]},
                   "stripeish": {"api_key": "sk_...", "webhook_secrets": ["whsec_...", ...]}}}

`webhook_secrets` is newest first. Rotation prepends a secret (the simulator then signs with
every secret in the list, one signature each); retirement drops the oldest. Guarantees: the
file is created exactly once even when two processes race for it (O_EXCL), and every rewrite is
atomic (write a temp file, rename), so a reader never sees half a file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROVIDERS = ("ledgerpay", "stripeish")
API_KEY_PREFIX = {"ledgerpay": "lp_test_", "stripeish": "sk_test_"}


@dataclass(frozen=True)
class PersonalitySecrets:
    api_key: str
    webhook_secrets: tuple[str, ...]  # newest first; never empty

    @property
    def current(self) -> str:
        return self.webhook_secrets[0]


@dataclass(frozen=True)
class ProviderSecrets:
    admin_key: str
    providers: dict[str, PersonalitySecrets]

    def of(self, provider: str) -> PersonalitySecrets:
        return self.providers[provider]

    def to_json(self) -> dict[str, object]:
        return {"admin_key": self.admin_key,
                "providers": {name: {"api_key": p.api_key,
                                     "webhook_secrets": list(p.webhook_secrets)}
                              for name, p in self.providers.items()}}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ProviderSecrets:
        providers = data["providers"]
        assert isinstance(providers, dict)
        return cls(str(data["admin_key"]), {
            name: PersonalitySecrets(str(p["api_key"]), tuple(p["webhook_secrets"]))
            for name, p in providers.items()})


def new_webhook_secret() -> str:
    """'whsec_' + base64 of 24 random bytes: the `standardwebhooks` format (the part after the
    prefix is base64-decoded into the HMAC key). Stripe-style signing uses the whole string."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _fresh() -> ProviderSecrets:
    return ProviderSecrets(
        admin_key="adm_" + secrets.token_urlsafe(24),
        providers={name: PersonalitySecrets(API_KEY_PREFIX[name] + secrets.token_urlsafe(24),
                                            (new_webhook_secret(),))
                   for name in PROVIDERS})


def secrets_path(lab_dir: Path) -> Path:
    return Path(lab_dir) / "provider" / "secrets.json"


def _write_new(path: Path, data: ProviderSecrets) -> bool:
    """Create `path` with `data` unless it exists; True if this call created it. The content is
    written to a private temp file first and then hard-linked into place, which fails if the
    file exists: a racing reader never sees an empty or half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data.to_json(), out, indent=2)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def load(lab_dir: Path) -> ProviderSecrets:
    return ProviderSecrets.from_json(json.loads(secrets_path(lab_dir).read_text()))


def load_or_create(lab_dir: Path) -> ProviderSecrets:
    """The lab's provider secrets, created (0600) on first use."""
    path = secrets_path(lab_dir)
    if not path.exists():
        _write_new(path, _fresh())
    return load(lab_dir)


def save(lab_dir: Path, data: ProviderSecrets) -> None:
    """Replace the file atomically (rename), keeping mode 0600."""
    path = secrets_path(lab_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data.to_json(), out, indent=2)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _replace(data: ProviderSecrets, provider: str, webhook_secrets: tuple[str, ...]
             ) -> ProviderSecrets:
    providers = dict(data.providers)
    providers[provider] = PersonalitySecrets(data.of(provider).api_key, webhook_secrets)
    return ProviderSecrets(data.admin_key, providers)


def rotate(lab_dir: Path, provider: str) -> ProviderSecrets:
    """Prepend a new webhook secret for `provider`; the old ones keep signing until retired."""
    data = load_or_create(lab_dir)
    updated = _replace(data, provider, (new_webhook_secret(), *data.of(provider).webhook_secrets))
    save(lab_dir, updated)
    return updated


def retire(lab_dir: Path, provider: str) -> ProviderSecrets:
    """Drop the oldest webhook secret of `provider` (a no-op when only one is left: the
    provider always signs with at least one)."""
    data = load_or_create(lab_dir)
    current = data.of(provider).webhook_secrets
    updated = _replace(data, provider, current[:-1] if len(current) > 1 else current)
    save(lab_dir, updated)
    return updated
