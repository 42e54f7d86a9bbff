"""The per-site circuit breaker's I/O: its ConfigMap, the admission gate and admin commands.

The state machine itself is pure and lives in :mod:`videodl.core.breaker`. This package
connects it to the cluster:

- ``store``: the ConfigMap, read and written with ``resourceVersion`` preconditions and
  retried on conflict, so several operator processes never lose an update;
- ``watch``: a watch on that ConfigMap, so every process sees changes at once;
- ``gate``: the operator's admission gate: consults and updates the state per download,
  records outcomes, applies commands, posts Events and keeps the metrics;
- ``sites`` (which site a URL belongs to), ``outcomes`` (which attempts count), ``admin``
  (annotation commands), ``events`` (Event objects) and ``keys``: pure helpers;
- ``metrics``: the Prometheus series.

See ``docs/breaker.md`` for how administrators use it.
"""
