# ruff: noqa: A005  (imported as tests.http; ruff sees tests/ as a source root)
