"""Statement budgets: what each money request costs the database (issue #17)."""
