"""Operations health: money whose outcome is not final yet, and the outbox's state."""
