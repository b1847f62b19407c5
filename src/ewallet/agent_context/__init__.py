"""What a support agent sees about one customer, masked by role and audit-logged."""
