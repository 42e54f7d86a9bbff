"""The VideoDownload's state machine, Pod builder and deletion plan. Pure: no I/O.

- ``plan``: what a decision sees (:class:`~videodl.reconcile.download.plan.Observation`)
  and what it asks for (:class:`~videodl.reconcile.download.plan.Plan`);
- ``transitions``: the state machine from an observation to a plan;
- ``deletion``: what deleting a download with ``deletionPolicy: Delete`` does;
- ``outcome``: what a finished worker Pod means;
- ``gate``: the seam where policies (the circuit breaker) veto an admission;
- ``podspec``, ``naming``: the worker and cleanup Pods, names, labels, the finalizer;
- ``podview``, ``record``: what is kept in memory of a Pod and of a download;
- ``patches``: status merge patches.
"""
