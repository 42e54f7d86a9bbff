"""The process node: a stand-in kubelet that runs Pods' commands as local processes.

It registers a Node with the real control plane, keeps its heartbeat fresh, provisions
local-directory PersistentVolumes for its StorageClass, and runs every container of the Pods
bound to it as a process in a private mount namespace, reporting Pod status as a kubelet does.
Pure modules (layout, timestamps, quantities, expansion, fieldpaths, environment, projection,
volumeplan, mountscript, podstatus, podchecks, nodeobjects, volumeobjects, settings) hold the
rules; the I/O modules (kubeapi, watchloop, heartbeat, provisioner, volumes, processes,
podworker, agent) apply them.
"""
