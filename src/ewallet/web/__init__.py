"""The web front ends, served by the API process itself: the wallet at ``/`` (this issue),
the staff console and the merchant portal later. The top floor: only the app imports it.

``kit`` holds what the front ends share (cookie sessions, CSRF, templates, translations,
page responses, forms); ``wallet`` one module of page handlers per feature. Handlers parse a
form, make one service call and render; no SQL, no repository, no HTTP call to ourselves.
"""
