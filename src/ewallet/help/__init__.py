"""Help articles and their search: packaged defaults, staff edits with history, feedback."""
