"""docpost's domain: the request contract, the pure rules and the posting services."""
