"""The process node agent: wires the heartbeat, the provisioner and the Pod workers together.

Pods bound to the node are listed then watched; each new Pod gets a PodWorker. After a
restart of the agent, Pods that had already started are marked Failed (their processes died
with the previous agent), finished Pods that are being deleted are removed, and Pods never
started are started.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from typing import Any

from videodl_devkit import pki
from videodl_devkit.processnode import (
    environment,
    fieldpaths,
    heartbeat,
    kubeapi,
    kubeletserver,
    layout,
    mountscript,
    nodeobjects,
    podstatus,
    podworker,
    processes,
    provisioner,
    settings,
    volumes,
    watchloop,
)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StartupError(RuntimeError):
    """The agent cannot start here; the message says what is missing."""


def resolve_tools(search_path: str) -> mountscript.Tools:
    """Absolute paths of unshare, bash, mkdir, mount and setpriv; StartupError if one is missing."""
    found: dict[str, str] = {}
    # The start script runs under bash (it numbers descriptors from 10).
    for field, tool in (
        ("unshare", "unshare"),
        ("sh", "bash"),
        ("mkdir", "mkdir"),
        ("mount", "mount"),
        ("setpriv", "setpriv"),
    ):
        location = shutil.which(tool, path=search_path + os.pathsep + DEFAULT_PATH)
        if location is None:
            raise StartupError(
                f"{tool} was not found on PATH; the process node needs util-linux (unshare, "
                "mount, setpriv) and bash"
            )
        found[field] = location
    return mountscript.Tools(**found)


def _started_before(pod: Mapping[str, Any]) -> bool:
    """Whether some container of the Pod has already run (under an earlier agent)."""
    status = pod.get("status") or {}
    if status.get("phase") == podstatus.RUNNING:
        return True
    for entry in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        state = entry.get("state") or {}
        if state.get("running") or state.get("terminated") or entry.get("lastState"):
            return True
    return False


class Agent:
    """One process node."""

    def __init__(self, config: settings.Settings, logger: logging.Logger) -> None:
        self._config = config
        self._logger = logger
        self._paths = layout.Layout(config.state_dir.resolve())
        self._lock = threading.Lock()
        self._workers: dict[str, podworker.PodWorker] = {}
        self._finished: set[str] = set()
        self._closing = False
        self._tasks = concurrent.futures.ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="node-task"
        )
        self._kube: kubeapi.Kube | None = None
        self._ctx: podworker.NodeContext | None = None
        self._kubelet: kubeletserver.KubeletServer | None = None

    def run(self, stop: threading.Event) -> None:
        """Run until stop is set, then stop every process this agent started."""
        if os.geteuid() != 0:
            raise StartupError("the process node must run as root: it creates mount namespaces")
        config = self._config
        host_path = os.environ.get("PATH") or DEFAULT_PATH
        tools = resolve_tools(host_path)
        for directory in (self._paths.root, self._paths.volumes_root, self._paths.logs_root):
            directory.mkdir(parents=True, exist_ok=True)
        killed = processes.kill_leftovers(self._paths.pods_root, self._logger)
        if killed:
            self._logger.warning("killed %d process groups left by an earlier run", killed)
        shutil.rmtree(self._paths.pods_root, ignore_errors=True)
        self._paths.pods_root.mkdir(parents=True)

        kube = kubeapi.Kube.from_kubeconfig(config.kubeconfig)
        self._kube = kube
        self._start_kubelet_endpoint()
        threads: list[threading.Thread] = []
        try:
            beat, provision = self._start_up(kube, stop)
            if beat is None or provision is None:
                return
            self._ctx = podworker.NodeContext(
                kube=kube,
                paths=self._paths,
                node_name=config.node_name,
                tools=tools,
                service=environment.service_variables(
                    environment.ApiEndpoint(host="127.0.0.1", port=kube.port)
                ),
                host_path_env=host_path,
                resources=fieldpaths.NodeResources(cpu=config.cpu, memory=config.memory),
                volumes=volumes.VolumeBuilder(
                    kube,
                    paths=self._paths,
                    node=fieldpaths.NodeResources(cpu=config.cpu, memory=config.memory),
                ),
                shutdown_grace=config.shutdown_grace_seconds,
                image_paths=config.image_paths,
                logger=self._logger,
            )
            loops: list[tuple[str, Callable[[], None]]] = [
                ("heartbeat", lambda: beat.run(stop, config.heartbeat_seconds)),
                ("claims", lambda: provision.run_claims(stop)),
                ("volumes", lambda: provision.run_volumes(stop)),
                ("pods", lambda: self._watch_pods(kube, stop)),
            ]
            for name, target in loops:
                thread = threading.Thread(target=target, name=f"node-{name}", daemon=True)
                thread.start()
                threads.append(thread)
            self._logger.info("process node %s is ready", config.node_name)
            while not stop.wait(1.0):
                pass
        finally:
            self._shut_down(kube, threads)

    def _start_up(
        self, kube: kubeapi.Kube, stop: threading.Event
    ) -> tuple[heartbeat.Heartbeat | None, provisioner.Provisioner | None]:
        """Register the Node and the StorageClass, retrying until the apiserver answers."""
        config, delay = self._config, 0.5
        while not stop.is_set():
            try:
                facts = heartbeat.host_facts(kube, config.node_name)
                if self._kubelet is not None:
                    facts = dataclasses.replace(facts, kubelet_port=self._kubelet.port)
                capacity = nodeobjects.Capacity(
                    cpu=config.cpu,
                    memory=config.memory,
                    pods=config.pods,
                    ephemeral_storage=heartbeat.disk_size(self._paths.root),
                )
                beat = heartbeat.Heartbeat(
                    kube,
                    name=config.node_name,
                    capacity=capacity,
                    facts=facts,
                    lease_seconds=config.lease_seconds,
                    logger=self._logger,
                )
                beat.register()
                provision = provisioner.Provisioner(
                    kube,
                    paths=self._paths,
                    node=config.node_name,
                    class_name=config.storage_class,
                    logger=self._logger,
                )
                provision.ensure_storage_class()
                provision.remove_orphans()
                return beat, provision
            except Exception as error:  # noqa: BLE001 - the apiserver may still be starting
                self._logger.warning("starting up failed (%s); retrying in %.1fs", error, delay)
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
        return None, None

    def _watch_pods(self, kube: kubeapi.Kube, stop: threading.Event) -> None:
        watchloop.run(
            kube,
            "/api/v1/pods",
            query={"fieldSelector": f"spec.nodeName={self._config.node_name}"},
            on_list=self._on_pod_list,
            on_event=self._on_pod_event,
            stop=stop,
            logger=self._logger,
        )

    def _on_pod_list(self, pods: list[kubeapi.Json]) -> None:
        present = {str(pod["metadata"]["uid"]) for pod in pods}
        with self._lock:
            for uid, worker in list(self._workers.items()):
                if uid not in present:
                    worker.forget()
            self._finished &= present
        for pod in pods:
            try:
                self._on_pod_event("SYNC", pod)
            except Exception:
                self._logger.exception("handling Pod %s failed", pod["metadata"].get("name"))

    def _on_pod_event(self, kind: str, pod: kubeapi.Json) -> None:
        metadata = pod["metadata"]
        uid = str(metadata["uid"])
        with self._lock:
            if self._closing or self._ctx is None:
                return
            worker = self._workers.get(uid)
            if kind == "DELETED":
                if worker is not None:
                    worker.forget()
                self._finished.discard(uid)
                return
            if worker is not None:
                worker.update(pod)
                return
            deleting = bool(metadata.get("deletionTimestamp"))
            phase = (pod.get("status") or {}).get("phase")
            if uid in self._finished or phase in podstatus.TERMINAL_PHASES:
                self._finished.add(uid)
                if deleting:
                    self._submit(self._remove, pod)
                return
            if _started_before(pod):
                self._finished.add(uid)
                self._submit(self._mark_lost, pod)
                return
            if deleting:
                self._finished.add(uid)
                self._submit(self._remove, pod)
                return
            worker = podworker.PodWorker(self._ctx, pod, on_done=self._worker_done)
            self._workers[uid] = worker
            worker.start()

    def _worker_done(self, worker: podworker.PodWorker) -> None:
        with self._lock:
            self._workers.pop(worker.uid, None)
            if self._closing:
                return
            self._finished.add(worker.uid)
            if worker.deletion_requested and not worker.deleted_object:
                self._submit(self._remove, worker.latest)

    def _submit(self, task: Callable[[Mapping[str, Any]], None], pod: Mapping[str, Any]) -> None:
        def guarded() -> None:
            try:
                task(pod)
            except Exception:
                self._logger.exception(
                    "%s for Pod %s failed", task.__name__, pod["metadata"].get("name")
                )

        self._tasks.submit(guarded)

    def _remove(self, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]
        assert self._kube is not None
        podworker.delete_pod(
            self._kube, str(metadata["namespace"]), str(metadata["name"]), str(metadata["uid"])
        )
        self._logger.info("removed Pod %s/%s", metadata["namespace"], metadata["name"])

    def _mark_lost(self, pod: Mapping[str, Any]) -> None:
        metadata, kube = pod["metadata"], self._kube
        assert kube is not None
        status = podstatus.lost(pod, datetime.datetime.now(datetime.UTC))
        kubeapi.retrying(
            lambda: kube.request(
                "PATCH",
                kubeapi.path(
                    "api", "v1", "namespaces", metadata["namespace"], "pods", metadata["name"]
                )
                + "/status",
                body={"status": status},
                content_type=kubeapi.STRATEGIC,
            )
        )
        self._logger.warning(
            "Pod %s/%s was running under an earlier agent; marked Failed",
            metadata["namespace"],
            metadata["name"],
        )
        if metadata.get("deletionTimestamp"):
            self._remove(pod)

    def _start_kubelet_endpoint(self) -> None:
        config = self._config
        if not config.kubelet_port:
            return
        cert, key, client_ca = config.kubelet_cert, config.kubelet_key, config.client_ca
        if cert is None or key is None or client_ca is None:
            raise StartupError("--kubelet-port needs --kubelet-cert, --kubelet-key, --client-ca")
        self._kubelet = kubeletserver.KubeletServer(
            paths=self._paths,
            port=config.kubelet_port,
            cert=cert,
            key=key,
            client_ca=client_ca,
            client_name=pki.KUBELET_CLIENT_NAME,
            logger=self._logger,
        )
        self._kubelet.start()
        self._logger.info("serving container logs on 127.0.0.1:%d", self._kubelet.port)

    def _shut_down(self, kube: kubeapi.Kube, threads: list[threading.Thread]) -> None:
        self._logger.info("process node %s stopping", self._config.node_name)
        if self._kubelet is not None:
            self._kubelet.stop()
        with self._lock:
            self._closing = True
            workers = list(self._workers.values())
        kube.close()
        for worker in workers:
            worker.shutdown()
        for worker in workers:
            worker.join(self._config.shutdown_grace_seconds + 10.0)
        self._tasks.shutdown(wait=True, cancel_futures=True)
        for thread in threads:
            thread.join(2.0)
        shutil.rmtree(self._paths.pods_root, ignore_errors=True)
        self._logger.info("process node %s stopped", self._config.node_name)
