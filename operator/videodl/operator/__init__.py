"""The VideoDownload operator: VideoDownloads become priority-scheduled worker Pods.

Run it with ``python -m videodl.operator`` (or ``videodl-operator``); ``--help`` lists the
settings. Pure modules hold the rules: ``settings`` (configuration), ``naming`` (names,
labels), ``podspec`` (worker and cleanup Pods), ``podview`` (what is kept of a Pod),
``outcome`` (what a finished Pod means), ``transitions`` (the state machine), ``queue``
(admission order and limits), ``gate`` (the admission gate seam), ``patches`` (status
merge patches), ``removal`` (which files a cleanup may delete), ``store`` (the in-memory
view of objects) and ``workqueue``. The I/O modules apply them: ``kube`` (API calls in
threads), ``recorder`` (Events), ``metrics`` (Prometheus and health endpoint),
``controller`` (reconciling one download), ``admission`` (the admission loop), ``handlers``
(kopf registrations), ``login`` and ``__main__``. ``cleanup`` is the program of the
file-cleanup Pod; ``testing`` holds helpers for tests and benchmarks.
"""
