"""The VideoDownload's state machine, Pod builder and deletion plan. Pure: no I/O.

- ``plan``: what a decision sees (:class:`~videodl.reconcile.download.plan.Observation`)
  and what it asks for (:class:`~videodl.reconcile.download.plan.Plan`);
- ``transitions``: the state machine's entry point, :func:`~.transitions.decide`, and the
  phases before and after a run (pending, queued, suspended, retried, finished);
- ``attempts``: a running attempt and its worker Pod (created, replaced, succeeded);
- ``failures``: what a failure leads to (backoff or phase Failed);
- ``admission``: the plans of the admission loop (start a run, block, a refused Pod);
- ``phases``: entering a phase (status, conditions, the Event of the change);
- ``reasons``: every Event reason, with its type;
- ``deletion``: what deleting a download with ``deletionPolicy: Delete`` does;
- ``outcome``: what a finished worker Pod means;
- ``gate``: the seam where policies (the circuit breaker) veto an admission;
- ``podspec``, ``naming``, ``settings``: the worker and cleanup Pods, names, labels, the
  finalizer, and the operator's settings for them;
- ``podview``, ``record``: what is kept in memory of a Pod and of a download;
- ``patches``: status merge patches.
"""
