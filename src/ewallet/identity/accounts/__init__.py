"""The account itself: registration, profile and the login password (``/v1/users``, ``/v1/me``)."""
