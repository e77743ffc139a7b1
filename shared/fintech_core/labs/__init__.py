"""Workshop labs: exercises whose starters are generated from proved reference solutions.

The labs themselves live in `labs/` at the repository root (README, schema, solution, generated
starter, tests); this package holds the machinery around them: the registry, starter generation,
the database the lab tests use, and the `fcl lab` commands.
"""
