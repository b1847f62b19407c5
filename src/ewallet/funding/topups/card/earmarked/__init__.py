"""Card debits earmarked for a payment (the card part of a card-funded payment)."""
