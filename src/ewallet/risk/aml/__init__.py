"""Anti-money-laundering reports: large-value transactions and suspicious candidates
(docs/aml-reports.md)."""
