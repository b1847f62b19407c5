"""The composition root: the one place where a process's adapters are built and wired.

* :func:`~ewallet.bootstrap.root.running_services` opens the engine, the ledger, the rate
  limiter, the PSP channels and the bank and biller gateways as one
  :class:`~ewallet.services.Services`. The API's lifespan, every ``ewallet`` command and
  ``ewallet worker`` get theirs from it.
* :mod:`.lifespan`: the API's lifespan (services, embedded relay, settle loop, upkeep) and
  the development sandboxes ``create_app`` mounts.
* :mod:`.outbox`: the outbox's handler table (``outbox_registry(services)``), the embedded
  relay and the doorbell that wakes it; :mod:`.sms`: the ``sms.send`` handler and the SMS
  adapter the settings choose.
* :mod:`.bank`, :mod:`.biller`, :mod:`.psp`: each partner's gateway from the settings --
  the real one, or development's sandbox (the only modules that import
  :mod:`ewallet.sandbox`).

It sits above every feature (docs/architecture.md, "Layers"): nothing but the app, the CLI
and the demo imports it.
"""

from ewallet.bootstrap.root import running_services

__all__ = ["running_services"]
