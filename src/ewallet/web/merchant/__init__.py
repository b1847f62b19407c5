"""The merchant portal at ``/merchant/``: pages for a merchant's owner, managers and cashiers
(docs/merchant-portal.md). One module of page handlers per area, on the kit's pieces."""
