"""The VideoPlaylist's reconcile: what is observed in, a plan out. Pure: no I/O.

``selection`` picks entries, ``naming`` names children, index chunks and indexer Pods,
``children`` summarises children into counts, ``podspec`` builds the indexer Pod, the
chunks and the children, and ``transitions`` decides the next step.
"""
