"""The process node: a stand-in kubelet that runs Pods' commands as local processes.

It registers a Node with the real control plane, keeps its heartbeat fresh, provisions
local-directory PersistentVolumes for its StorageClass, and runs every container of the Pods
bound to it as a process in a private mount namespace, reporting Pod status as a kubelet does.

Pure modules hold the rules: settings, layout, timestamps, quantities, expansion, fieldpaths,
environment, projection, volumeplan, mountscript, podchecks, podstatus, nodeobjects,
volumeobjects, events and errors. The I/O modules apply them: kubeapi (JSON over the official
client's transport), watchloop, heartbeat, provisioner, volumes, processes, podworker and
agent. See docs/process-node.md.
"""
