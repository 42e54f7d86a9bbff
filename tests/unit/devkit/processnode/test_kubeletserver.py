"""The kubelet endpoint over real TLS with certificates of a freshly made local PKI."""

from __future__ import annotations

import logging
import pathlib
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from videodl_devkit import pki
from videodl_devkit.processnode import kubeletserver, layout

UID = "0f4c2b1e-uid"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.create(tmp_path_factory.mktemp("pki"), service_ip="10.0.0.1")


@pytest.fixture
def server(certs: pki.Pki, tmp_path: pathlib.Path) -> Iterator[kubeletserver.KubeletServer]:
    paths = layout.Layout(tmp_path)
    for restart, text in ((0, "first run\n"), (1, "one\ntwo\nthree\n")):
        log = paths.log_file("media", "clip-r1", UID, "worker", restart)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(text)
    running = kubeletserver.KubeletServer(
        paths=paths,
        port=0,
        cert=certs.kubelet_serving.cert,
        key=certs.kubelet_serving.key,
        client_ca=certs.ca_cert,
        client_name=pki.KUBELET_CLIENT_NAME,
        logger=logging.getLogger("test"),
    )
    running.start()
    yield running
    running.stop()


def get(
    server: kubeletserver.KubeletServer, certs: pki.Pki, path: str, who: pki.ClientCert
) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=certs.ca_cert)
    context.load_cert_chain(who.cert, who.key)
    url = f"https://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class TestKubeletServer:
    def test_serves_the_apiserver(
        self, server: kubeletserver.KubeletServer, certs: pki.Pki
    ) -> None:
        """The apiserver's kubelet client gets the latest run, its tail or the previous run."""
        client = certs.apiserver_kubelet_client
        assert get(server, certs, "/containerLogs/media/clip-r1/worker", client) == (
            200,
            "one\ntwo\nthree\n",
        )
        assert get(server, certs, "/containerLogs/media/clip-r1/worker?tailLines=1", client) == (
            200,
            "three\n",
        )
        assert get(server, certs, "/containerLogs/media/clip-r1/worker?previous=true", client) == (
            200,
            "first run\n",
        )
        assert get(server, certs, "/containerLogs/media/clip-r1/worker?limitBytes=3", client) == (
            200,
            "one",
        )
        status, text = get(server, certs, "/containerLogs/media/other/worker", client)
        assert status == 404
        assert "no logs of container 'worker' of Pod media/other" in text

    def test_refuses_other_clients(
        self, server: kubeletserver.KubeletServer, certs: pki.Pki
    ) -> None:
        """Another certificate of the same CA is refused; no certificate fails the handshake."""
        status, text = get(server, certs, "/containerLogs/media/clip-r1/worker", certs.admin)
        assert status == 403
        assert pki.KUBELET_CLIENT_NAME in text
        context = ssl.create_default_context(cafile=certs.ca_cert)
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionResetError)):
            urllib.request.urlopen(
                f"https://127.0.0.1:{server.port}/containerLogs/media/clip-r1/worker",
                context=context,
                timeout=10,
            ).read()
