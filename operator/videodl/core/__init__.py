"""The pure core of the operator: the rules, with no side effects.

All the functions here are purely data-manipulative and computational. No external calls or
any I/O are done here: no Kubernetes client, no kopf, no prometheus_client, no clock reads and
no global randomness. The current time is passed in as an argument (a timezone-aware
``datetime`` or float seconds), and randomness as a ``random.Random``, so every rule can be
tested on its own and replayed exactly. The operator's handlers call these functions and do
the I/O at the edges.

Modules:

- ``backoff``: exponential backoff with jitter.
- ``admission``: which queued downloads start now, and the order of the rest.
- ``breaker``: the per-site circuit breaker state machine and its ConfigMap encoding.
- ``conditions``: kstatus-style ``Ready``/``Reconciling``/``Stalled`` conditions.
"""
