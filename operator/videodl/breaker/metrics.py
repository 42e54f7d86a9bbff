"""Prometheus metrics of the circuit breaker: state per site, trips and rejected admissions.

One :class:`BreakerMetrics` per operator process, registered in the operator's registry so
one ``/metrics`` scrape shows them next to the operator's own series.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["STATE_VALUES", "BreakerMetrics"]

#: ``videodl_breaker_state`` value per state name.
STATE_VALUES = {"CLOSED": 0, "OPEN": 1, "HALF_OPEN": 2}


class BreakerMetrics:
    """The breaker's series; label ``site`` is the site key (``generic.example.com``, ...)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.state = Gauge(
            "videodl_breaker_state",
            "Circuit breaker state per site: 0 closed, 1 open, 2 half-open.",
            ["site"],
            registry=registry,
        )
        self.trips = Counter(
            "videodl_breaker_trips",
            "Times a site's circuit breaker opened (from closed or half-open).",
            ["site"],
            registry=registry,
        )
        self.rejected = Counter(
            "videodl_breaker_rejected_admissions",
            "Downloads kept waiting because their site's circuit breaker was open.",
            ["site"],
            registry=registry,
        )

    def set_state(self, site: str, state: str) -> None:
        """Show ``state`` (a state name such as ``OPEN``) for ``site``."""
        self.state.labels(site=site).set(STATE_VALUES[state])

    def forget(self, site: str) -> None:
        """Drop the state series of a site whose key left the ConfigMap."""
        try:
            self.state.remove(site)
        except KeyError:
            return

    def tripped(self, site: str) -> None:
        """Count one trip of ``site``."""
        self.trips.labels(site=site).inc()

    def rejected_admission(self, site: str) -> None:
        """Count one download kept waiting for ``site``."""
        self.rejected.labels(site=site).inc()
