"""The wallet in a browser, mounted at ``/``: one module of page handlers per feature."""
