"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager, scheduler.

Every process is a child of this one (they die with it), listens on 127.0.0.1 on a free port,
and keeps its data and logs in one state directory.
"""

from __future__ import annotations

import dataclasses
import pathlib
import socket
import ssl
import time
import urllib.error
import urllib.request

from videodl_devkit import kubeconfig, pki, processes

SERVICE_CIDR = "10.96.0.0/24"
SERVICE_IP = "10.96.0.1"


class ControlPlaneError(RuntimeError):
    """A component did not start; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class ClientRate:
    """The client-side rate limit of the controller-manager and the scheduler."""

    qps: int
    burst: int


#: What this local cluster runs with: far above the defaults, so controllers are not the limit.
LOCAL_RATE = ClientRate(qps=200, burst=400)
#: kube-controller-manager's and kube-scheduler's own defaults (``--kube-api-qps``/``-burst``).
UPSTREAM_RATE = ClientRate(qps=20, burst=30)


@dataclasses.dataclass
class ControlPlane:
    """Starts and stops the control plane processes; ``admin_kubeconfig`` is the way in."""

    bin_dir: pathlib.Path
    state_dir: pathlib.Path
    rate: ClientRate = LOCAL_RATE
    children: list[processes.Child] = dataclasses.field(default_factory=list)
    apiserver_port: int = 0
    admin_kubeconfig: pathlib.Path = dataclasses.field(default=pathlib.Path())
    certs: pki.Pki | None = None

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def log_dir(self) -> pathlib.Path:
        return self.state_dir / "logs"

    def start(self, timeout: float = 120.0) -> None:
        """Start every component and wait until the apiserver is ready and controllers run."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.certs = pki.create(self.state_dir / "pki", service_ip=SERVICE_IP)
        self.apiserver_port = free_port()
        deadline = time.monotonic() + timeout
        try:
            etcd_url = self._start_etcd()
            self._start_apiserver(etcd_url)
            self._wait_ready(self.children[-1], "/readyz", deadline)
            self._start_controllers(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every started process, newest first."""
        while self.children:
            self.children.pop().stop()

    def kubeconfig_for(self, name: str, cert: pki.ClientCert) -> pathlib.Path:
        assert self.certs is not None
        return kubeconfig.write(
            self.state_dir / f"{name}.kubeconfig",
            server=self.server,
            ca_file=self.certs.ca_cert,
            user=name,
            cert_file=cert.cert,
            key_file=cert.key,
        )

    def _spawn(self, name: str, argv: list[str]) -> processes.Child:
        child = processes.start(name, argv, log_dir=self.log_dir)
        self.children.append(child)
        return child

    def _start_etcd(self) -> str:
        client, peer = free_port(), free_port()
        url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=videodl",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={url}",
                f"--advertise-client-urls={url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=videodl={peer_url}",
                # Tests need speed, not durability.
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                "--listen-metrics-urls=",
            ],
        )
        return url

    def _start_apiserver(self, etcd_url: str) -> None:
        assert self.certs is not None
        p = self.certs
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.apiserver_port}",
                f"--cert-dir={self.state_dir / 'apiserver-certs'}",
                f"--tls-cert-file={p.serving_cert}",
                f"--tls-private-key-file={p.serving_key}",
                f"--client-ca-file={p.ca_cert}",
                # Pod logs, exec and port-forward go to the node's kubelet port over TLS.
                f"--kubelet-client-certificate={p.apiserver_kubelet_client.cert}",
                f"--kubelet-client-key={p.apiserver_kubelet_client.key}",
                f"--kubelet-certificate-authority={p.ca_cert}",
                "--kubelet-preferred-address-types=InternalIP",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={p.sa_pub}",
                f"--service-account-signing-key-file={p.sa_key}",
                "--allow-privileged=true",
                "--enable-admission-plugins=PodSecurity,Priority,"
                "DefaultStorageClass,ServiceAccount,NamespaceLifecycle",
                # A loopback endpoint for the kubernetes Service is refused; Pods reach the
                # apiserver through KUBERNETES_SERVICE_HOST, which the node agent sets.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                "--v=1",
            ],
        )
        self.admin_kubeconfig = self.kubeconfig_for("admin", p.admin)

    def _start_controllers(self, deadline: float) -> None:
        assert self.certs is not None
        p = self.certs
        cm_port, sched_port = free_port(), free_port()
        cm = self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.kubeconfig_for('controller-manager', p.controller_manager)}",
                f"--root-ca-file={p.ca_cert}",
                f"--service-account-private-key-file={p.sa_key}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={cm_port}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--kube-api-qps={self.rate.qps}",
                f"--kube-api-burst={self.rate.burst}",
                "--concurrent-gc-syncs=20",
                "--v=1",
            ],
        )
        sched = self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={self.kubeconfig_for('scheduler', p.scheduler)}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={sched_port}",
                f"--kube-api-qps={self.rate.qps}",
                f"--kube-api-burst={self.rate.burst}",
                "--v=1",
            ],
        )
        self._wait_ready(cm, "/healthz", deadline, port=cm_port, authenticate=False)
        self._wait_ready(sched, "/healthz", deadline, port=sched_port, authenticate=False)

    def _wait_ready(
        self,
        child: processes.Child,
        path: str,
        deadline: float,
        *,
        port: int | None = None,
        authenticate: bool = True,
    ) -> None:
        assert self.certs is not None
        context = ssl.create_default_context(cafile=str(self.certs.ca_cert))
        if authenticate:
            context.load_cert_chain(str(self.certs.admin.cert), str(self.certs.admin.key))
        else:
            # Controllers serve health checks with self-signed certificates.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        url = f"https://127.0.0.1:{port or self.apiserver_port}{path}"
        last = ""
        while time.monotonic() < deadline:
            if not child.alive():
                msg = f"{child.name} exited with {child.popen.returncode}:\n{child.tail()}"
                raise ControlPlaneError(msg)
            try:
                with urllib.request.urlopen(url, context=context, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.2)
        msg = f"{child.name} not ready at {url} ({last}):\n{child.tail()}"
        raise ControlPlaneError(msg)
