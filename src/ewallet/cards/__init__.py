"""Bank cards: the BIN table, card-number rules, binding and unbinding."""
