"""Finding a customer for an agent: by phone number, id, ticket or chat."""
