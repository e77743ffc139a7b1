"""Database plumbing: URLs, database creation, migrations, the pool, the unit of work."""
