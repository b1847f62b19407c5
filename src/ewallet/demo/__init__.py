"""Demo data: ``ewallet demo seed`` fills a development database with a living wallet."""
