"""Domain: pure rules and values. No I/O, no framework imports; unit tests run it directly."""
