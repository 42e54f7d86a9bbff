"""``python -m videodl_devkit.demo``: videodl end to end on a local cluster.

It builds (once) and starts the local control plane, installs the Helm chart, starts a local
media server with generated videos, applies VideoDownloads of every priority — one that fails
for good (404) and several against a site that throttles (429) until its circuit breaker
opens — and shows their progress live until every one has settled. Then the site recovers,
the breaker lets one probe through, closes, and the waiting downloads drain. A playlist fans
a feed out into downloads, and a subscription follows a channel: its first scan skips the
three episodes that exist, and the fourth, published while it runs, is downloaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys
import time
from typing import Any

import yaml
from rich.console import Console

from videodl.cli import kinds
from videodl.cli.live import LiveTable
from videodl_devkit import cluster, controlplane, mediaserver, s3server, testing

NAMESPACE = "videodl-demo"
RELEASE_NAMESPACE = "videodl-system"
THROTTLED_HOST = "localhost"
FINISHED = {"Succeeded", "Failed"}


@dataclasses.dataclass(frozen=True)
class Download:
    """One demo download and the phase it must end in."""

    name: str
    priority: str
    path: str
    expected: str
    host: str = "127.0.0.1"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


DOWNLOADS = [
    Download("keynote", "Critical", "/media/video.mp4?rate=20000", "Succeeded"),
    Download(
        "lecture",
        "High",
        "/page/video.html",
        "Succeeded",
        extra={"subtitles": {"languages": ["en"]}, "thumbnail": {"write": True}},
    ),
    Download("livestream-replay", "Normal", "/media/hls/playlist.m3u8", "Succeeded"),
    Download(
        "podcast",
        "Low",
        "/named/podcast-episode.mp4",
        "Succeeded",
        extra={"format": {"preset": "AudioOnly"}, "audio": {"extract": True, "codec": "mp3"}},
    ),
    Download("removed-video", "Normal", "/status/404/removed.mp4", "Failed"),
    *[
        Download(
            f"throttled-{n}",
            "Lowest",
            f"/named/clip-{n}.mp4",
            "Succeeded",
            host=THROTTLED_HOST,
            extra={"retry": {"maxAttempts": 10, "backoff": {"initialSeconds": 2, "maxSeconds": 5}}},
        )
        for n in range(1, 7)
    ],
]


class Demo:
    """The demo's state: the cluster, the media server and how to reach both."""

    def __init__(self, state_dir: pathlib.Path) -> None:
        self.state_dir = state_dir
        self.local: cluster.LocalCluster | None = None
        self.media: mediaserver.MediaServer | None = None

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        assert self.local is not None
        done = subprocess.run(
            [str(self.local.bin_dir / "kubectl"), f"--kubeconfig={self.local.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            msg = f"kubectl {' '.join(args)}: {done.stderr.strip()}"
            raise RuntimeError(msg)
        return done.stdout

    def start(self) -> None:
        cluster_dir = self.state_dir / "cluster"
        shutil.rmtree(cluster_dir, ignore_errors=True)
        step("starting the local control plane (the first run builds it from Go modules)")
        started = time.monotonic()
        self.local = cluster.start(cluster_dir)
        step(
            f"control plane ready in {time.monotonic() - started:.1f} s: "
            f"export KUBECONFIG={self.local.kubeconfig}"
        )
        step("generating sample videos with ffmpeg and serving them on 127.0.0.1")
        self.media = mediaserver.MediaServer(self.state_dir / "media").start()
        self.media.set_host_mode(THROTTLED_HOST, 429)
        step(f"media server at {self.media.base_url}; {THROTTLED_HOST} answers 429 for now")

    def install(self) -> None:
        assert self.local is not None
        self.kubectl("create", "namespace", NAMESPACE)
        values = {
            "operator": {
                "command": [sys.executable, "-m", "videodl.operator"],
                "extraEnv": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
            },
            "workers": {
                "command": [sys.executable, "-m", "videodl.worker"],
                "cleanupCommand": [sys.executable, "-m", "videodl.cleanup"],
                "indexerCommand": [sys.executable, "-m", "videodl.worker.indexer"],
                "namespaces": [NAMESPACE],
                "progressIntervalSeconds": 1,
                # The media server is on loopback, which workers refuse otherwise.
                "allowedNetworks": testing.LOOPBACK_NETWORKS.split(","),
            },
            "admission": {"maxRunning": 3, "intervalSeconds": 1},
            "breaker": {"failureThreshold": 3, "openSeconds": 8, "maxOpenSeconds": 30},
            "metrics": {"port": controlplane.free_port()},
        }
        values_file = self.state_dir / "values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        step("installing the Helm chart (CRD, RBAC, PriorityClasses, breaker, operator)")
        chart = pathlib.Path(__file__).resolve().parents[3] / "charts" / "videodl-operator"
        subprocess.run(
            [
                str(self.local.bin_dir / "helm"),
                f"--kubeconfig={self.local.kubeconfig}",
                "install",
                "videodl",
                str(chart),
                "--namespace",
                RELEASE_NAMESPACE,
                "--create-namespace",
                "--values",
                str(values_file),
                "--wait",
                "--timeout=120s",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        claim = testing.volume_claim("videos")
        self.kubectl("apply", "-n", NAMESPACE, "-f", "-", stdin=json.dumps(claim))

    def apply_downloads(self) -> None:
        assert self.media is not None
        objects = []
        for d in DOWNLOADS:
            spec: dict[str, Any] = {
                "url": self.media.url(d.path, host=d.host),
                "priority": d.priority,
                "output": {"persistentVolumeClaim": {"claimName": "videos"}},
                **d.extra,
            }
            objects.append(
                {
                    "apiVersion": "videodl.dev/v1alpha1",
                    "kind": "VideoDownload",
                    "metadata": {"name": d.name, "namespace": NAMESPACE},
                    "spec": spec,
                }
            )
        step(f"applying {len(objects)} VideoDownloads")
        self.kubectl(
            "apply",
            "-f",
            "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        )

    def objects(self) -> dict[str, dict[str, Any]]:
        listing = json.loads(self.kubectl("get", "videodownloads", "-n", NAMESPACE, "-o", "json"))
        # A playlist's children are shown by the playlist (see apply_playlist), and a
        # subscription's downloads by the subscription (see follow_channel).
        return {
            o["metadata"]["name"]: o
            for o in listing["items"]
            if not {PLAYLIST_LABEL, SUBSCRIPTION_LABEL} & set(o["metadata"].get("labels") or {})
        }

    def watch(self, timeout: float) -> dict[str, dict[str, Any]]:
        # The same live display as `kubectl videodl get -w`: one table redrawn in place.
        with LiveTable(kinds.DOWNLOADS, console=Console()) as live:
            return self._watch(timeout, live)

    def _watch(self, timeout: float, live: LiveTable) -> dict[str, dict[str, Any]]:
        assert self.media is not None
        deadline = time.monotonic() + timeout
        recovered = False
        objects: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            objects = self.objects()
            phases = {name: o.get("status", {}).get("phase") for name, o in objects.items()}
            if not recovered and "Blocked" in phases.values():
                # The breaker is open: let the site recover, so the probe finds it healthy.
                self.media.set_host_mode(THROTTLED_HOST, None)
                recovered = True
                note = f"{THROTTLED_HOST} tripped its breaker; it recovers, a probe will close it"
            else:
                note = ""
            if note:
                live.console.print(f">> {note}")
            live.update({(NAMESPACE, name): o for name, o in objects.items()})
            if len(objects) == len(DOWNLOADS) and all(p in FINISHED for p in phases.values()):
                return objects
            time.sleep(1)
        return objects

    def stop(self) -> None:
        if self.media is not None:
            self.media.stop()
        if self.local is not None:
            self.local.stop()


PLAYLIST = "demo-episodes"
PLAYLIST_LABEL = "videodl.dev/playlist"


def apply_playlist(demo: Demo) -> None:
    """A VideoPlaylist of the media server's 6-episode feed, at most 4 of them."""
    assert demo.media is not None
    playlist = {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoPlaylist",
        "metadata": {"name": PLAYLIST, "namespace": NAMESPACE},
        "spec": {
            "url": demo.media.url("/playlist/episodes.rss?count=6"),
            "maxItems": 4,
            "template": {
                "priority": "Low",
                "output": {"persistentVolumeClaim": {"claimName": "videos"}, "subPath": "episodes"},
            },
        },
    }
    step(f"applying VideoPlaylist {PLAYLIST}: a feed of 6 episodes, maxItems 4")
    demo.kubectl("apply", "-f", "-", stdin=json.dumps(playlist))


def wait_playlist(demo: Demo, timeout: float) -> dict[str, Any]:
    """The playlist once it finished (or as it is when ``timeout`` seconds have passed)."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = json.loads(
            demo.kubectl("get", "videoplaylist", PLAYLIST, "-n", NAMESPACE, "-o", "json")
        )
        if (found.get("status") or {}).get("phase") in FINISHED:
            break
        time.sleep(1)
    status = found.get("status") or {}
    step(
        f"playlist {PLAYLIST}: {status.get('phase')}, {status.get('entries')} entries found, "
        f"{status.get('created')} children, progress {status.get('progressText')}"
    )
    return found


SUBSCRIPTION = "demo-channel"
SUBSCRIPTION_LABEL = "videodl.dev/subscription"


def _subscription_status(demo: Demo) -> dict[str, Any]:
    found = json.loads(
        demo.kubectl("get", "videosubscription", SUBSCRIPTION, "-n", NAMESPACE, "-o", "json")
    )
    status: dict[str, Any] = found.get("status") or {}
    return status


def _until(timeout: float, check: Any) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    return None


def follow_channel(demo: Demo, timeout: float) -> int:
    """A VideoSubscription of a 3-episode channel that gets a 4th: only the 4th downloads."""
    assert demo.media is not None
    demo.media.set_channel(SUBSCRIPTION, 3)
    subscription = {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoSubscription",
        "metadata": {"name": SUBSCRIPTION, "namespace": NAMESPACE},
        "spec": {
            "url": demo.media.url(f"/channel/{SUBSCRIPTION}.rss"),
            "schedule": "@every 10s",
            "template": {
                "output": {"persistentVolumeClaim": {"claimName": "videos"}, "subPath": "channel"},
            },
        },
    }
    step(f"applying VideoSubscription {SUBSCRIPTION}: a channel of 3 episodes, every 10s")
    demo.kubectl("apply", "-f", "-", stdin=json.dumps(subscription))
    first = _until(timeout, lambda: _subscription_status(demo).get("lastSuccessfulTime"))
    status = _subscription_status(demo)
    step(
        f"subscription {SUBSCRIPTION}: first scan recorded {status.get('videos', {}).get('known')} "
        "existing episodes as seen and downloaded none (initialBacklog: None)"
    )
    if not first:
        return 1
    demo.media.set_channel(SUBSCRIPTION, 4)
    step("the channel publishes episode 4")

    def downloaded() -> dict[str, Any] | None:
        listing = json.loads(
            demo.kubectl(
                "get",
                "videodownloads",
                "-n",
                NAMESPACE,
                "-o",
                "json",
                "-l",
                f"{SUBSCRIPTION_LABEL}={SUBSCRIPTION}",
            )
        )
        items = listing["items"]
        done = [i for i in items if (i.get("status") or {}).get("phase") == "Succeeded"]
        return {"items": items} if done else None

    found = _until(timeout, downloaded)
    names = [i["metadata"]["name"] for i in (found or {}).get("items", [])]
    step(f"subscription {SUBSCRIPTION}: new episode downloaded as {', '.join(names) or 'nothing'}")
    return 0 if found and len(names) == 1 else 1


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videodl_devkit.demo", description=__doc__)
    parser.add_argument("--state-dir", type=pathlib.Path, default=pathlib.Path(".demo"))
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for every download"
    )
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    demo = Demo(args.state_dir.resolve())
    try:
        demo.start()
        demo.install()
        demo.apply_downloads()
        apply_playlist(demo)
        objects = demo.watch(args.timeout)
        playlist = wait_playlist(demo, args.timeout / 4)
        code = summarize(demo, objects) or upload_to_s3(demo, args.timeout)
        code = code or follow_channel(demo, args.timeout / 4)
        return code or (0 if (playlist.get("status") or {}).get("phase") == "Succeeded" else 1)
    finally:
        demo.stop()


def summarize(demo: Demo, objects: dict[str, dict[str, Any]]) -> int:
    assert demo.local is not None
    wrong = []
    for d in DOWNLOADS:
        phase = objects.get(d.name, {}).get("status", {}).get("phase")
        if phase != d.expected:
            wrong.append(f"{d.name}: {phase} (expected {d.expected})")
    volumes = demo.local.storage_dir
    print()
    if wrong:
        step("some downloads did not end as expected:\n    " + "\n    ".join(wrong))
        step(f"logs: {demo.local.log_dir}")
        return 1
    step(f"every download ended in its expected phase ({len(DOWNLOADS)} of {len(DOWNLOADS)})")
    failure = objects["removed-video"]["status"].get("lastFailure", {})
    step(
        f"removed-video failed for good: {failure.get('class')} {failure.get('reason')}: "
        f"{failure.get('message', '')[:80]}"
    )
    files = sorted(p for p in volumes.rglob("*") if p.is_file() and not p.name.startswith("."))
    step(f"{len(files)} files downloaded under {volumes}:")
    for path in files:
        print(f"    {path.relative_to(volumes)}  ({path.stat().st_size} bytes)")
    step(f"clean up with: make demo-clean   (removes {demo.state_dir})")
    return 0


def upload_to_s3(demo: Demo, timeout: float) -> int:
    """One more download, uploaded into a local S3 server (versitygw) instead of a volume."""
    assert demo.media is not None
    step("starting a local S3 server (versitygw, posix backend) with a bucket 'videos'")
    with s3server.S3Server(demo.state_dir / "s3") as server:
        server.make_bucket("videos")
        keys = {
            "accessKeyId": server.credentials.access_key_id,
            "secretAccessKey": server.credentials.secret_access_key,
        }
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s3-credentials", "namespace": NAMESPACE},
            "stringData": keys,
        }
        download = {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoDownload",
            "metadata": {"name": "to-s3", "namespace": NAMESPACE},
            "spec": {
                "url": demo.media.url("/page/video.html"),
                "output": {
                    "template": "%(title)s.%(ext)s",
                    "s3": {
                        "endpoint": server.endpoint,
                        "bucket": "videos",
                        "keyPrefix": "demo",
                        "credentialsSecretRef": {"name": "s3-credentials"},
                    },
                },
            },
        }
        document = {"apiVersion": "v1", "kind": "List", "items": [secret, download]}
        demo.kubectl("apply", "-f", "-", stdin=json.dumps(document))
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline and status.get("phase") not in FINISHED:
            time.sleep(1)
            status = demo.objects().get("to-s3", {}).get("status", {})
        if status.get("phase") != "Succeeded":
            step(f"the S3 download ended {status.get('phase')}: {status.get('lastFailure')}")
            return 1
        for entry in status["result"]["files"]:
            step(f"uploaded {entry['path']} ({entry['sizeBytes']} bytes, sha256 {entry['sha256']})")
        step(f"objects on the S3 server's disk: {server.data / 'videos'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
