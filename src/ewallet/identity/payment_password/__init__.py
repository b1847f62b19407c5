"""The 6-digit payment password (PIN): policy, setting it, checking it before money moves."""
