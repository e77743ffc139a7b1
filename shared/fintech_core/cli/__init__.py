"""The `fcl` command line."""
