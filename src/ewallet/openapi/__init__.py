"""The API's own description: ``/openapi.json`` with every operation's problem answers, and
Swagger UI served offline at ``/docs``.

A top-layer package (beside :mod:`ewallet.app`, which installs it): describing the problem
answers reads the dependencies of identity, staff, merchants and the maintenance guard of
ops, which :mod:`ewallet.http` -- below all of them -- must not import.
"""
