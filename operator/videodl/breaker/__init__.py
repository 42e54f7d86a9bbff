"""The per-site circuit breaker's I/O: its ConfigMap, the admission gate and admin commands.

The state machine itself is pure and lives in :mod:`videodl.core.breaker`. This package
connects it to the cluster, through the one client wrapper :mod:`videodl.kube.client`:

- ``settings``: where the state is kept, and the state machine's tunables;
- ``store``: the ConfigMap, read and written with ``resourceVersion`` preconditions and
  retried on conflict, so several operator processes never lose an update;
- ``watch``: a watch on that ConfigMap, so every process sees changes at once;
- ``shared``: this process's copy of the ConfigMap, its conditional writes, administrators'
  commands and the announcements of transitions (Events, log lines, metrics);
- ``gate``: the operator's admission gate: admits per site and records outcomes;
- ``sites`` (which site a URL belongs to), ``evidence`` (what a finished attempt tells the
  breaker), ``admin`` (annotation commands), ``events`` (Event objects) and ``keys``: pure
  helpers;
- ``metrics``: the Prometheus series.

See ``docs/breaker.md`` for how administrators use it.
"""
