"""The review of phone changes asked for without the old number (``/v1/staff/phone-changes``)."""
