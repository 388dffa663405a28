"""Plain rules and values: no web framework, no database, no HTTP client."""
