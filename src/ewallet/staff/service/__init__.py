"""The staff use cases, one module per group.

- :mod:`.sessions` -- who is calling (:func:`~.sessions.authenticate_staff`, used by the
  HTTP dependency and the chat socket alike), token refresh, sign-out;
- :mod:`.credentials` -- sign-in with email, password and TOTP, and the failure lock;
- :mod:`.accounts` -- creating, listing and disabling staff, changing one's password;
- :mod:`.customers` -- freezing and unfreezing customers' accounts;
- :mod:`.audit_log` -- reading the audit log.

Each public function takes the :class:`~ewallet.services.Services` first, then who acts
(a :class:`~ewallet.staff.principal.StaffPrincipal` or an audit
:class:`~ewallet.audit.service.Actor`), and does the whole use case: its units of work,
rate limits and audit events.
"""
