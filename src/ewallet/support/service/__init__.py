"""Support's use cases, by group.

- :mod:`.customer` -- what a customer does over the API (open, read, write on, rate tickets;
  their mail address). Each is one whole use case with its own unit of work.
- :mod:`.tickets`, :mod:`.lifecycle`, :mod:`.assignment`, :mod:`.quota` -- the ticket rules,
  run inside a caller's unit of work, so a ticket opened from a chat, a mail, a logged call or
  an HTTP request commits with whatever else that use case wrote. Other features call these.

Staff use cases are in :mod:`ewallet.support.staff.service`, incoming mail in
:mod:`ewallet.support.inbound.service`, agent presence in :mod:`ewallet.support.presence`.
"""
