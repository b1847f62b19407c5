"""The chat's use cases.

States::

    bot ──"人工"/unsure twice──▶ queued ──agent takes──▶ active ──either ends──▶ closed
     │                            │
     └── no agent online ─────────┴──▶ closed, as a ticket (channel "chat")

- :mod:`.customer` -- the customer's side: open or rejoin, talk to the bot or agent, hand
  over, end, read.
- :mod:`.agent` -- the agent's side: the queue, taking a chat, answering, ending, reading,
  and leaving (the last agent leaving turns waiting chats into tickets).
- :mod:`.closing` and :mod:`.lines` -- how a chat ends (its ticket, its transcript) and the
  lines of a chat, in a caller's unit of work.

Each use case is one transaction on the (locked) chat row and returns an
:class:`~ewallet.chat.views.Outcome`: the caller publishes its topics on the chat bus after
the commit. Presence (who is online) is support's (:mod:`ewallet.support.presence`).
"""
