"""Top-ups from a bound card: the debit (:mod:`.service`) and the job that settles
debits whose outcome was unknown (:mod:`.jobs`)."""
