"""The kubelet's HTTPS port, serving container logs to the apiserver (``kubectl logs``).

The apiserver proxies ``pods/log`` to ``https://<InternalIP>:<kubeletEndpoint port>``,
verifying this server's certificate with ``--kubelet-certificate-authority`` and presenting
its ``--kubelet-client-certificate``. As a kubelet does, the server requires a client
certificate from the cluster's CA; it serves only the apiserver's (by its common name).
Logs are the files the node writes for every container run (:mod:`.layout`); with
``follow`` the file is streamed until the container has exited and everything is sent.
"""

from __future__ import annotations

import http.server
import logging
import pathlib
import re
import ssl
import threading
import time
from typing import Final

from videodl_devkit.processnode import containerlogs, layout, processes
from videodl_devkit.processnode.containerlogs import LogRequest, RequestError

__all__ = ["KubeletServer"]

_RUN: Final = re.compile(r"^(\d+)\.log$")
_POLL_SECONDS: Final = 0.2
_CHUNK: Final = 64 * 1024


class KubeletServer:
    """An HTTPS server on ``port`` (0: any free port) of 127.0.0.1, in a thread."""

    def __init__(
        self,
        *,
        paths: layout.Layout,
        port: int,
        cert: pathlib.Path,
        key: pathlib.Path,
        client_ca: pathlib.Path,
        client_name: str,
        logger: logging.Logger,
    ) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
        handler = _handler(paths, client_name, logger)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="node-kubelet", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _runs(directory: pathlib.Path) -> dict[int, pathlib.Path]:
    found = {}
    for path in directory.glob("*.log"):
        match = _RUN.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _container_log_dir(paths: layout.Layout, request: LogRequest) -> tuple[str, pathlib.Path]:
    """The uid of the newest Pod of that name and its container's log directory."""
    prefix = f"{request.namespace}_{request.pod}_"
    pods = [d for d in paths.logs_root.glob(f"{prefix}*") if (d / request.container).is_dir()]
    if not pods:
        msg = (
            f"no logs of container {request.container!r} of Pod "
            f"{request.namespace}/{request.pod} on this node"
        )
        raise RequestError(404, msg)
    newest = max(pods, key=lambda d: d.stat().st_mtime)
    return newest.name.removeprefix(prefix), newest / request.container


def _running(paths: layout.Layout, uid: str, container: str) -> bool:
    try:
        pid_text, _, started = paths.pid_file(uid, container).read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    return processes.start_time(pid) == started


def _handler(
    paths: layout.Layout, client_name: str, logger: logging.Logger
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "videodl-process-node"

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("kubelet: " + format, *args)

        def _fail(self, status: int, message: str) -> None:
            body = (message + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if not isinstance(self.connection, ssl.SSLSocket):
                return False
            peer = self.connection.getpeercert() or {}
            names = [
                str(attribute[1])
                for rdn in peer.get("subject", ())
                for attribute in rdn
                if attribute[0] == "commonName"
            ]
            return client_name in names

        def do_GET(self) -> None:
            if not self._authorised():
                self._fail(403, f"only {client_name} may read container logs here")
                return
            try:
                request = containerlogs.parse(self.path)
                uid, directory = _container_log_dir(paths, request)
                runs = _runs(directory)
                run = containerlogs.choose_run(list(runs), previous=request.previous)
                if run is None:
                    which = "a previous run" if request.previous else "a run"
                    raise RequestError(400, f"container {request.container!r} has no {which}")
            except RequestError as exc:
                self._fail(exc.status, str(exc))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            follow = request.follow and run == max(runs)
            try:
                self._stream(runs[run], request, follow=follow, uid=uid)
            except (BrokenPipeError, ConnectionResetError):
                return

        def _stream(
            self, log: pathlib.Path, request: LogRequest, *, follow: bool, uid: str
        ) -> None:
            left = request.limit_bytes
            with log.open("rb") as source:
                data = containerlogs.tail(source.read(), request.tail_lines)
                while True:
                    if left is not None:
                        data = data[:left]
                        left -= len(data)
                    if data:
                        self.wfile.write(data)
                        self.wfile.flush()
                    if (left is not None and left <= 0) or not follow:
                        return
                    data = source.read(_CHUNK)
                    if data:
                        continue
                    if not _running(paths, uid, request.container):
                        data = source.read()
                        follow = False
                        continue
                    time.sleep(_POLL_SECONDS)

    return Handler
