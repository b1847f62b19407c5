"""Cash top-ups at a bank counter: a teller credits a customer's wallet by phone number
and receipt; large amounts wait for a different supervisor and leave a large-cash record.
See docs/counter-deposits.md."""
