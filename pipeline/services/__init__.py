"""Posting services: one use case per module, each run inside one UnitOfWork."""
