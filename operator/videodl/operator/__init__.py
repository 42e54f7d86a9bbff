"""The VideoDownload operator process: VideoDownloads become priority-scheduled worker Pods.

Run it with ``python -m videodl.operator`` (or ``videodl-operator``); ``--help`` lists the
settings. The rules it applies are pure and live below it (:mod:`videodl.core`,
:mod:`videodl.reconcile.download`); its Kubernetes I/O is :mod:`videodl.kube`. Here:

- ``settings``, ``options``: the operator's configuration, and its flags and environment;
- ``handlers``: the kopf registrations, thin, feeding the controller;
- ``kopfsetup``: kopf's settings, credentials and no-op state storages;
- ``runtime``: the running parts and their start and stop;
- ``downloads``: the VideoDownload controller (reconciling one download);
- ``admission``: the admission loop (which waiting downloads start, in order);
- ``metrics``: Prometheus metrics and the health endpoint;
- ``__main__``: parse the settings, run kopf.
"""
