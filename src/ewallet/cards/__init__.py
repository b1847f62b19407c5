"""Bank cards: the banks and card-number look-up (:mod:`.endpoints`), and binding and
unbinding a user's debit cards (:mod:`.binding`)."""
