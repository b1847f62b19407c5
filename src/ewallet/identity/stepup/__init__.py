"""Step-up challenges: a second proof before a new device or a risky action."""
