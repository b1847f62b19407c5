"""Sandboxes: stand-ins for the outside parties the wallet talks to (a bank, PSPs).

Each is a separate ASGI app with its own storage, reached by the wallet through the same
HTTP client a real partner would be, so the adapter code under test is the production
code. In development they are mounted in-process; ``ewallet sandbox ...`` runs one alone.
"""
