"""The two ways a Pod can fail to start on the process node.

SpecError: the Pod asks for something the process node cannot do, or its spec is wrong; the
affected container (or the whole Pod) is reported failed with the message. WaitingError:
something the Pod needs does not exist yet (a Secret, a ConfigMap, a bound claim); the Pod
stays Pending with the message and the step is retried, as a kubelet does.
"""

from __future__ import annotations


class SpecError(ValueError):
    """The Pod spec asks for something that cannot be run; the message says what to change."""


class WaitingError(RuntimeError):
    """Something the Pod needs is missing for now; retrying later may succeed."""
