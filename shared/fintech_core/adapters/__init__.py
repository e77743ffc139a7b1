"""Adapters: the ports implemented against real servers (SQL here) and in memory (fakes)."""
