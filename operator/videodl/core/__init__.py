"""The pure core of the operator: the rules, with no side effects.

All the functions here are purely data-manipulative and computational. No external calls or
any I/O are done here: no Kubernetes client, no kopf, no prometheus_client, no clock reads and
no global randomness. The current time is passed in as an argument (a timezone-aware
``datetime`` or float seconds), and randomness as a ``random.Random``, so every rule can be
tested on its own and replayed exactly. The operator's handlers call these functions and do
the I/O at the edges.

Modules:

- ``backoff``: exponential backoff with jitter.
- ``ordering``: the admission queue: which queued downloads start now, and the order of the
  rest.
- ``conditions``: kstatus-style ``Ready``/``Reconciling``/``Stalled`` conditions (their types
  and reasons are declared in :mod:`videodl.api.status`).
- the per-site circuit breaker: ``breaker`` (the state machine), ``breaker_config`` (its
  tunables and open durations), ``breaker_state`` (the stored state and its ConfigMap
  encoding) and ``site_keys`` (which breaker a download's URL belongs to).
- ``election``: leader election over a Lease, one decision per renewal round.
- ``times``: Kubernetes timestamps, parsed and formatted.
"""
