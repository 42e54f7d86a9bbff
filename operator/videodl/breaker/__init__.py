"""The per-site circuit breaker's I/O: its ConfigMap, the admission gate and admin commands.

The state machine itself is pure and lives in :mod:`videodl.core.breaker`. This package
stores its states in one ConfigMap shared by every operator process (:mod:`.store`), consults
and updates them when the operator admits downloads and records their outcomes (:mod:`.gate`),
applies administrator commands given as annotations (:mod:`.admin`) and exports metrics
(:mod:`.metrics`).
"""
