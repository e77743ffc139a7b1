"""Rules before ML: a model on the same labelled attempts and the same Features, judged at the
rule set's own flag rate, so the comparison is "same number of reviews, who catches more?".

Time-ordered split (train on the first part, test on the later part: no peeking at the future,
which a random split would allow). scikit-learn is a *dev* dependency (the notebook's), so it is
imported inside `compare`, never at module import: the engine and the CLI's other commands run
without it. random_state is fixed: same history -> same table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fintech_core.fraud.backtest import Backtest, Row
from fintech_core.fraud.model import Features

KINDS = ("TRANSFER", "DEPOSIT", "WITHDRAWAL")
NUMERIC = tuple(f.name for f in dataclasses.fields(Features)
                if f.name not in ("kind", "caller_kind"))


@dataclass(frozen=True)
class Scored:
    name: str
    flagged: int
    precision: float
    recall: float


COLUMNS = (*NUMERIC, *(f"kind={k}" for k in KINDS))


def vector(f: Features) -> list[float]:
    return [float(getattr(f, n)) for n in NUMERIC] + [float(f.kind == k) for k in KINDS]


def dataset(rows: tuple[Row, ...]) -> tuple[list[list[float]], list[bool], list[str]]:
    """(X, y, pattern) in time order, columns named by COLUMNS: for the notebook's own models."""
    return ([vector(r.features) for r in rows], [r.item.is_fraud for r in rows],
            [r.item.pattern for r in rows])


def _score(name: str, flags: list[bool], labels: list[bool]) -> Scored:
    tp = sum(f and y for f, y in zip(flags, labels, strict=True))
    n, fraud = sum(flags), sum(labels)
    return Scored(name, n, tp / n if n else 0.0, tp / fraud if fraud else 0.0)


def compare(backtest: Backtest, train_share: float = 0.6) -> list[Scored]:
    """Rule set vs LogisticRegression vs GradientBoosting on the test part of the history."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows: tuple[Row, ...] = backtest.rows
    cut = int(len(rows) * train_share)
    train, test = rows[:cut], rows[cut:]
    (x_train, y_train, _), (x_test, y_test, _) = dataset(train), dataset(test)
    rule_flags = [r.flagged for r in test]
    budget = sum(rule_flags)  # the model may flag as many test attempts as the rules did
    results = [_score(f"rules {backtest.ruleset}", rule_flags, y_test)]
    models = {
        "logistic regression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, random_state=0)),
        "gradient boosting": GradientBoostingClassifier(random_state=0),
    }
    for name, model in models.items():
        model.fit(x_train, y_train)
        proba = model.predict_proba(x_test)[:, 1]
        # The `budget` highest scores (ties broken by position: deterministic).
        ranked = sorted(range(len(test)), key=lambda i: (-proba[i], i))[:budget]
        chosen = set(ranked)
        results.append(_score(name, [i in chosen for i in range(len(test))], y_test))
    return results
