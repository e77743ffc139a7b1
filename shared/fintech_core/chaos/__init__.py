"""Correctness under fire: a bank workload, fault injectors and a checker (issue #7).

The workload moves money among a fixed set of accounts through the real HTTP API while faults
hit the stack; it writes every attempt to an operation log. The checker then judges the run from
two independent witnesses, the log (what clients were told) and the database (what is true), and
reports every broken invariant. Modules, in the order a run uses them:

- config   the knobs of a run (workers, accounts, transfers, client timeouts, faults);
- env      the real servers a run talks to (API process, database, embedded PostgreSQL);
- targets  how to seed accounts and send one transfer: the real API, or the naive baseline;
- oplog    the JSONL operation log, written by the workload and read by the checker;
- workload writers (transfers with retries under one Idempotency-Key) and snapshot readers;
- faults   the injectors, one per kind, and the registry that names them;
- hooks    phase-specific checks that exist only when their code does (ledger verify, proxy);
- facts    what the database says after the run; checker: the invariants; report: the output;
- runner   one run end to end; cli: the `fcl chaos` command.
"""
