"""The signed-in user's devices (``/v1/me/devices``)."""
