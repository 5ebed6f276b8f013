"""The store's plumbing: the DuckDB connection, its lock-down, migrations and transactions."""
