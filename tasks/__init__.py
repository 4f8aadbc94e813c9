"""The queue: Celery app, tasks, outbox relay, beat schedule and the published client.

- app, config, routing: the Celery app and its configuration (one comment per decision)
- execute, render, relay: the tasks (thin: count the delivery, call pipeline/, relay)
- schedule: beat's bulk invoicing slots and the outbox sweep
- client: `submit(request) -> handle`, `handle.wait(timeout)` (outcomes from the database)
- embedded, demo: the in-process queue for the no-server default (`docpost demo`)
"""
