"""Password-free small payments: the user's opt-in and cap, and the check a payment makes."""
