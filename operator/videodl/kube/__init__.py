"""The one I/O layer over the official Kubernetes client.

Every request the operator, the breaker and the worker send goes through
:mod:`videodl.kube.client` (typed errors, JSON bodies, no blocking of the event loop).
Around it: the object cache (:mod:`~videodl.kube.cache`), the work queue
(:mod:`~videodl.kube.workqueue`), the generic controller machinery
(:mod:`~videodl.kube.controller`), Lease election (:mod:`~videodl.kube.leader`), Events
(:mod:`~videodl.kube.events`) and authentication (:mod:`~videodl.kube.login`).
"""
