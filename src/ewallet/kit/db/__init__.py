"""Database layer: engine set-up per backend, the unit of work, retries and row locking."""
