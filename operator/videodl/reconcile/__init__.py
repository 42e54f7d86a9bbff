"""Pure reconcile logic: what is observed of an object in, the plan to carry out out.

One subpackage per kind (:mod:`videodl.reconcile.download`), so a new kind is a new folder.
Nothing here does I/O: no Kubernetes client, no kopf, no prometheus_client, no clock reads.
"""
