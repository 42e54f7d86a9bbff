"""The contract between the operator and the Pods it runs. Pure: no I/O.

What the operator puts into a worker or cleanup Pod and what it reads back: the
environment (:mod:`~videodl.workerapi.environment`), the termination message
(:mod:`~videodl.workerapi.termination`), the exit codes
(:mod:`~videodl.workerapi.exitcodes`), the cleanup Pod's path rules
(:mod:`~videodl.workerapi.cleanup`) and a VideoPlaylist indexer's environment and index
chunks (:mod:`~videodl.workerapi.index`). Both sides import it; neither imports the other.
"""
