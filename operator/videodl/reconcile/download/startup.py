"""Why a worker Pod does not start, read from what Kubernetes reports. Pure: no I/O.

A worker Pod that can never start (its Secret or claim is missing, no node fits its
requests, its image cannot be pulled) stays Pending. Kubernetes says why in two places: the
scheduler sets the ``PodScheduled`` condition to False with reason ``Unschedulable``, and
the kubelet keeps the container ``waiting`` with a reason such as
``CreateContainerConfigError`` or ``ErrImagePull``. :func:`diagnose` turns those into a
:class:`StartupProblem` whose reason is one of :class:`StartupReason` and whose message
names the missing thing and the fix; the state machine then frees the worker slot and
tries again later without using an attempt.

Each problem says how long after the Pod's creation to act on it: at once for a missing
object or an image that cannot be pulled; after a grace period when no node fits, since
the scheduler first reports a Pod that will preempt lower priorities as unschedulable (and
never while the nodes are merely full, of Pods or of their resource requests, of other
worker Pods: a burst of downloads fills them and their ends empty them, so such a Pod is
*queued*, looked at again every ``stuck_after_seconds`` and acted on only once no other
worker holds a place; a Pod that ends at once may never be seen running, so placed and not
finished is what counts); and after ``stuck_after_seconds`` when the Pod merely waits
with no reason given (some kubelets tell why only in Events), the message then naming
what the Pod needs, unless it is not placed yet while other workers hold the nodes (the
scheduler has not come to it: queued too).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Final

from videodl.api.resource import VideoDownload
from videodl.reconcile.download.podview import PodView

__all__ = ["StartupProblem", "StartupReason", "diagnose"]

#: Scheduler reasons of nodes at capacity: "<n> Too many pods" (the node runs as many Pods
#: as it may) and "<n> Insufficient <resource>" (the requests of its Pods fill it).
_CAPACITY: Final = re.compile(r"\d+ (Too many pods|Insufficient [\w./-]+)")
_NOT_FOUND: Final = re.compile(r'(secret|configmap|persistentvolumeclaim)s? "([^"]+)" not found')
_IMAGE_REASONS: Final = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
_CONFIG_REASONS: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})


class StartupReason(enum.StrEnum):
    """The reason (status condition and Event) of a download whose worker cannot start."""

    SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - a reason, not a credential
    """A Secret the worker mounts (``spec.cookies.secretRef``) does not exist."""
    CONFIG_MAP_NOT_FOUND = "ConfigMapNotFound"
    """A ConfigMap the worker Pod needs does not exist."""
    CLAIM_NOT_FOUND = "ClaimNotFound"
    """The output PersistentVolumeClaim does not exist."""
    UNSCHEDULABLE = "Unschedulable"
    """No node can run the worker Pod (requests, an unbound claim, taints...)."""
    IMAGE_PULL_FAILED = "ImagePullFailed"
    """The node cannot pull the worker image."""
    CONTAINER_CONFIG_ERROR = "ContainerConfigError"
    """The kubelet cannot build the worker container from its spec."""
    START_TIMEOUT = "StartTimeout"
    """The worker Pod did not start in time, for a reason Kubernetes did not report."""


@dataclasses.dataclass(frozen=True)
class StartupProblem:
    """Why the worker Pod cannot start: a reason and a message naming the fix."""

    reason: StartupReason
    message: str
    #: Seconds after the Pod's creation from which the problem is acted on (``queued``:
    #: seconds from now after which to look again).
    act_after_seconds: float = 0.0
    #: The Pod waits its turn for room that other workers hold: it is never given up while
    #: that lasts, as a Job's Pod is not.
    queued: bool = False


def _missing(kind: str, name: str, download: VideoDownload, pod: str) -> StartupProblem:
    where = f"namespace {download.namespace}"
    if kind == "secret":
        return StartupProblem(
            StartupReason.SECRET_NOT_FOUND,
            f'Secret "{name}" does not exist in {where} (spec.cookies.secretRef): create it; '
            "the download starts by itself once it exists",
        )
    if kind == "configmap":
        return StartupProblem(
            StartupReason.CONFIG_MAP_NOT_FOUND,
            f'ConfigMap "{name}" does not exist in {where} (needed by worker Pod {pod}): '
            "create it; the download starts by itself once it exists",
        )
    return StartupProblem(
        StartupReason.CLAIM_NOT_FOUND,
        f'PersistentVolumeClaim "{name}" does not exist in {where} '
        "(spec.output.persistentVolumeClaim, or the operator's --default-claim): create it; "
        "the download starts by itself once it exists",
    )


def _only_capacity(message: str) -> bool:
    """Whether the scheduler's only reasons are nodes at capacity (Pod count or resources).

    The scheduler's reasons are the first sentence after "nodes are available:"; what it
    appends (``no new claims to deallocate``, ``preemption: ...``) is not a reason of its own.
    """
    _, _, after = message.partition("available:")
    reasons = [r.strip() for r in after.partition(".")[0].split(",") if r.strip()]
    return bool(reasons) and all(_CAPACITY.fullmatch(r) for r in reasons)


def _needs(download: VideoDownload, claim: str | None) -> str:
    needed = [f'PersistentVolumeClaim "{claim}"'] if claim else []
    cookies = download.spec.cookies
    if cookies is not None:
        needed.append(f'Secret "{cookies.secret_ref.name}" (spec.cookies.secretRef)')
    return ", ".join(needed) or "nothing but its image"


def diagnose(
    pod: PodView,
    download: VideoDownload,
    *,
    claim: str | None,
    unschedulable_grace_seconds: float,
    stuck_after_seconds: float,
    others_placed: bool = False,
) -> StartupProblem | None:
    """Why ``pod`` has not started, or None once it runs or ended."""
    # Phase Running means every container was created and one runs or starts.
    if pod.phase != "Pending" or pod.deleting or pod.container_started:
        return None
    waiting_reason, waiting_message = pod.waiting or ("", "")
    text = " ".join(filter(None, (pod.unschedulable, waiting_message)))
    found = _NOT_FOUND.search(text)
    if found is not None:
        return _missing(found[1], found[2], download, pod.name)
    if pod.unschedulable is not None:
        # Nodes that are merely full of other workers place the Pod as soon as those
        # end, as they do for a burst of Jobs: giving its place up would only churn.
        full = _only_capacity(pod.unschedulable) and others_placed
        return StartupProblem(
            StartupReason.UNSCHEDULABLE,
            f"no node can run worker Pod {pod.name}: {pod.unschedulable} "
            "(lower spec.resources, bind the claim, or add capacity)",
            act_after_seconds=stuck_after_seconds if full else unschedulable_grace_seconds,
            queued=full,
        )
    if waiting_reason in _IMAGE_REASONS:
        return StartupProblem(
            StartupReason.IMAGE_PULL_FAILED,
            f"the worker image cannot be pulled ({waiting_reason}: {waiting_message}): "
            "check the operator's --worker-image and the registry's credentials",
        )
    if waiting_reason in _CONFIG_REASONS:
        return StartupProblem(
            StartupReason.CONTAINER_CONFIG_ERROR,
            f"the worker container cannot be created ({waiting_reason}: {waiting_message})",
        )
    return StartupProblem(
        StartupReason.START_TIMEOUT,
        f"worker Pod {pod.name} has not started after {stuck_after_seconds:.0f}s; it "
        f"needs {_needs(download, claim)}: check they exist (kubectl describe pod {pod.name})",
        act_after_seconds=stuck_after_seconds,
        # Not placed yet, no reason given, while other workers hold the nodes: the
        # scheduler has a queue of them and has not come to this one.
        queued=pod.node_name is None and waiting_reason == "" and others_placed,
    )
