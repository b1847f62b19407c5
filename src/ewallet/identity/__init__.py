"""Who a user is: registration, sign-in, sessions, devices, codes, passwords, step-up."""
