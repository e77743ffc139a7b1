"""The two systems a drill plays against: the naive baseline and a phase's real endpoints."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from fintech_core.drills.ledger import LedgerFacts, MoneyFacts, ledger_facts, naive_facts
from fintech_core.drills.target import Target


class NaiveTarget(Target):
    """The deliberately broken baseline: no key is ever sent, because it has none to send."""

    side = "naive"
    TABLE = "naive_accounts"
    PLACES: ClassVar[dict[str, str]] = {
        "mid-transfer": "naive.after_debit",      # the debit is saved, the credit is not
        "before-response": "naive.before_response",  # both saved, receipt sent, no answer yet
        "payout-before-provider": "naive.payout_debited",  # debited, provider not called
    }

    @property
    def label(self) -> str:
        return "naive baseline"

    def open_accounts(self, funded: dict[str, float]) -> None:
        for label, amount in funded.items():
            owner = f"{label}-{self.run_id}"
            self.accounts[label] = self.setup("/naive/accounts",
                                              {"owner": owner, "balance": float(amount)})["id"]

    def facts(self) -> LedgerFacts:
        return naive_facts(self.stage.database_url, self.accounts)

    def _request(self, src: str, dst: str, amount: float,
                 key: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        return ("/naive/transfer", {"from_id": self.accounts[src], "to_id": self.accounts[dst],
                                    "amount": float(amount)}, {})

    def _key_text(self, key: str | None) -> str:
        return "(no key: the naive API has none)"


class PhaseTarget(Target):
    side = "phase"
    TABLE = "accounts"
    PLACES: ClassVar[dict[str, str]] = {
        "mid-transfer": "transfer.before_commit",  # every step done, transaction still open
        "before-response": "transfer.after_commit",  # committed, no answer yet
        "payout-before-provider": "payout.hold_placed",  # hold committed, provider not called
    }

    @property
    def label(self) -> str:
        return f"phase {self.stage.phase}"

    def open_accounts(self, funded: dict[str, float]) -> None:
        for label, amount in funded.items():
            account = self.setup("/accounts", {"owner": f"{label}-{self.run_id}",
                                               "currency": "EUR"}, key=True)
            self.accounts[label] = account["id"]
            if amount:
                self.setup(f"/accounts/{account['id']}/deposits",
                           {"amount": int(amount), "currency": "EUR"}, key=True)

    def facts(self) -> LedgerFacts:
        return ledger_facts(self.stage.database_url, self._money(), self.accounts)

    def _money(self) -> MoneyFacts:
        money = self.stage.composition.money_facts
        assert money is not None, "a composed phase declares how it explains a balance"
        return money

    def _request(self, src: str, dst: str, amount: float,
                 key: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        body = {"source_account_id": self.accounts[src],
                "destination_account_id": self.accounts[dst],
                "amount": int(amount), "currency": "EUR"}
        return "/transfers", body, {"Idempotency-Key": key or uuid.uuid4().hex}
