"""Customer service look-ups: customers by phone, id or ticket; money by any id of ours or
a merchant's order number (``/v1/staff/customers``, ``/v1/staff/money-lookup``)."""
