"""A fault workload in the spirit of Jepsen's bank test: ``make chaos`` (docs/chaos.md).

- :mod:`bench.chaos.cluster`: the processes (a throw-away PostgreSQL cluster, the sandbox
  bank, ``ewallet serve --workers 2``, ``ewallet worker``) and the faults done to them;
- :mod:`bench.chaos.clients`: set-up through the API and the retrying clients;
- :mod:`bench.chaos.checks`: what must hold afterwards;
- :mod:`bench.chaos.__main__`: the run, printed as one JSON document.
"""
