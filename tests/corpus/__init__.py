"""The malformed-file corpus of issue 9: a generator (generate.py) and its oracle (oracle.py)."""
