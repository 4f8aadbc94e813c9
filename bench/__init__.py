"""Benchmarks: `python -m bench` (see bench/__main__.py). Each figure is compared, in the same
run, with the limit it cannot beat on the same machine.

- throughput: queue floor, posting, renders, bulk invoicing (real workers: workers, noop)
- db_floor: raw-SQL transactions doing one posting's writes; sql_count: statements per posting
- pdf, memory: the renderer against plain WeasyPrint, and its memory over many renders
- cpu: CPU seconds of a worker and of the PostgreSQL backends serving it
- profile: py-spy stacks summarised (`--profile DIR`)
"""
