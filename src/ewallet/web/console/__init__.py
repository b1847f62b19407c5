"""The staff console at ``/console``: the bank's support agents, tellers, operators,
compliance officers and admins at work in a browser (docs/console.md).

``session.py`` (cookies), ``auth.py`` (who is signed in, which role may see a page),
``forms.py`` (CSRF), ``pages.py`` (rendering), ``routing.py`` (what a page does not catch),
``nav.py`` (the navigation, by permission) and one module of page handlers per area, all
listed in ``routes.py``.
"""
