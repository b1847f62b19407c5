"""Refunds made by the merchant's people: from the portal (owners and managers, the
authenticator above a threshold) and at the till (a cashier, with an owner's or manager's
approval)."""
