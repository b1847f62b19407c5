"""Support mail going out: composing it, queuing it on the outbox, customers' own addresses."""
