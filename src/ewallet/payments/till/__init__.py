"""The counter in the merchant portal: the cashier's till (payment-code sales, the last
sale's refund) and the static QR codes' page with its live feed."""
