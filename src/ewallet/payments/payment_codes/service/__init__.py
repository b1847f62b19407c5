"""The payment code's use cases, one module per group.

- :mod:`.codes` -- ``GET /v1/me/payment-code``: the code to show now (and the user's secret);
- :mod:`.charges` -- ``POST /v1/merchant/charges``: a merchant charges a scanned code;
- :mod:`.confirmations` -- the user confirms a charge above the no-PIN limit with the PIN
  (or declines it), and the charges a code screen follows;
- :mod:`.funding` -- ``/v1/me/payment-code/funding``: balance first, or a card (a charge a
  card funds waits for the PIN and is paid by the card-funding path of orders);
- :mod:`.screen` -- the wallet's payment-code screen: the code and those charges;
- :mod:`.guessing` -- the budgets of unknown codes per merchant key and terminal, applied
  to their rows inside a charge's look-up unit (the rules are :mod:`..guard`).
"""
