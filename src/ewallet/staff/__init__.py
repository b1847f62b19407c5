"""Bank staff: accounts with mandatory TOTP, sessions, role checks and their audited actions."""
