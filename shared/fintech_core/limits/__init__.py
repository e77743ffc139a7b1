"""Limits (phase 4): how fast (GCRA rate limiting in Redis) and how much (amount limits in the
transfer's PostgreSQL transaction). See README.md for where each store is right."""
