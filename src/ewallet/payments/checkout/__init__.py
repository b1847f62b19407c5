"""The hosted checkout page: a browser signs in and pays an order's QR link."""
