"""Help articles as Markdown folders: importing, exporting, and the packaged defaults."""
