"""In-app notices of the signed-in user (``/v1/me/notifications``)."""
