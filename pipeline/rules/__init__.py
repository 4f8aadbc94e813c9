"""Pure rules: no I/O, no database. Each function names the DOMAIN.md rule it applies."""
