"""Reports: tables, figures, methods text and HTML."""
