"""`fcl bench`: transfers/s and latency against pgbench on the same PostgreSQL, same run."""
