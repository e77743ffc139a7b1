"""The drills themselves, grouped by the kind of failure. Registered in `drills.registry`."""
