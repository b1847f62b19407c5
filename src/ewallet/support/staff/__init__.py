"""The staff side of support: the ticket queue agents work from, and canned replies."""
