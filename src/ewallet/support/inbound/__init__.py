"""Support mail coming in: the SMTP listener, parsing, and routing a mail to its ticket."""
