"""Paying a bill from a bound card, or the balance plus the card for the rest."""
