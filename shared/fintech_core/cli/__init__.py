"""The `fincore` command line."""
