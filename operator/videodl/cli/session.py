"""The command line's one way to the cluster: kubeconfig, context, namespace and requests.

Every request goes through :class:`videodl.kube.client.Client`; an :class:`ApiError` comes
back as a :class:`videodl.cli.problems.CliError` that names the verb and resource, or says
that the cluster cannot be reached or the CRD is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from kubernetes import client, config

from videodl.cli import problems, suggest
from videodl.cli.kinds import Kind
from videodl.cli.problems import CliError
from videodl.kube.client import MERGE_PATCH, ApiError, Client, Resource, core_path

__all__ = ["Session"]

_DEFAULT_NAMESPACE: Final = "default"


def _resource(kind: Kind) -> Resource:
    return Resource(kind.group, kind.version, kind.plural)


class Session:
    """A kubeconfig context, its namespace, and the requests the commands make."""

    def __init__(
        self,
        *,
        kubeconfig: str | None,
        context: str | None,
        namespace: str | None,
        all_namespaces: bool = False,
    ) -> None:
        configuration = client.Configuration()
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
            contexts, active = config.list_kube_config_contexts(kubeconfig)  # type: ignore[no-untyped-call]
        except (config.ConfigException, OSError) as exc:
            where = kubeconfig or "the default kubeconfig ($KUBECONFIG or ~/.kube/config)"
            msg = f"cannot load {where}: {exc}; give --kubeconfig and --context of a cluster"
            raise CliError(msg) from None
        chosen = (
            next((c for c in contexts if c.get("name") == context), None) if context else active
        )
        default = ((chosen or {}).get("context") or {}).get("namespace") or _DEFAULT_NAMESPACE
        self.namespace: str = namespace or default
        self.all_namespaces = all_namespaces
        self.server: str = str(configuration.host)
        self.api = client.ApiClient(configuration)
        self.client = Client(self.api)

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    # --- the error translation every request shares --------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None,
        crd: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        try:
            return self.client.request(method, path, **kwargs)
        except ApiError as exc:
            raise problems.from_api_error(
                exc, verb=verb, resource=resource, namespace=namespace, server=self.server, crd=crd
            ) from None

    def scope(self) -> str | None:
        """The namespace of lists and watches; None with ``--all-namespaces``."""
        return None if self.all_namespaces else self.namespace

    # --- custom resources ----------------------------------------------------------------

    @staticmethod
    def _collection(kind: Kind, namespace: str | None) -> str:
        if namespace is None:
            return f"/apis/{kind.group}/{kind.version}/{kind.plural}"
        return _resource(kind).path(namespace)

    def list_objects(self, kind: Kind, namespace: str | None) -> dict[str, Any]:
        """The list object (``items``, ``metadata.resourceVersion``) of ``kind``."""
        return self._call(
            "GET",
            self._collection(kind, namespace),
            verb="list",
            resource=kind.crd_name,
            namespace=namespace,
            crd=kind.crd_name,
        )

    def get(self, kind: Kind, name: str) -> dict[str, Any]:
        """One object in the session's namespace; a missing one is named with close names."""
        try:
            return self.client.request("GET", _resource(kind).path(self.namespace, name))
        except ApiError as exc:
            if not exc.not_found:
                raise problems.from_api_error(
                    exc,
                    verb="get",
                    resource=kind.crd_name,
                    namespace=self.namespace,
                    server=self.server,
                ) from None
        # Either the object or the whole CRD is missing: the list tells which.
        found = self.list_objects(kind, self.namespace)
        names = [str((i.get("metadata") or {}).get("name", "")) for i in found.get("items", [])]
        msg = (
            f"{kind.kind} {name!r} not found in namespace {self.namespace}"
            f"{suggest.hint(name, names)}"
        )
        raise CliError(msg)

    def create(self, kind: Kind, body: Mapping[str, Any], *, dry_run: bool) -> dict[str, Any]:
        return self._call(
            "POST",
            _resource(kind).path(self.namespace),
            verb="create",
            resource=kind.crd_name,
            namespace=self.namespace,
            crd=kind.crd_name,
            body=dict(body),
            query={"dryRun": "All"} if dry_run else None,
        )

    def patch(self, kind: Kind, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A merge patch of one object (checked to exist first, for a helpful error)."""
        self.get(kind, name)
        return self._call(
            "PATCH",
            _resource(kind).path(self.namespace, name),
            verb="patch",
            resource=kind.crd_name,
            namespace=self.namespace,
            body=dict(patch),
            content_type=MERGE_PATCH,
        )

    def delete(self, kind: Kind, name: str) -> dict[str, Any]:
        self.get(kind, name)
        return self._call(
            "DELETE",
            _resource(kind).path(self.namespace, name),
            verb="delete",
            resource=kind.crd_name,
            namespace=self.namespace,
        )

    def watch(
        self, kind: Kind, namespace: str | None, *, resource_version: str, field_selector: str = ""
    ) -> Iterator[dict[str, Any]]:
        """Watch events of ``kind`` from ``resource_version`` until the apiserver ends it."""
        query = {"resourceVersion": resource_version, "allowWatchBookmarks": "true"}
        if field_selector:
            query["fieldSelector"] = field_selector
        try:
            yield from self.client.watch(self._collection(kind, namespace), query=query)
        except ApiError as exc:
            raise problems.from_api_error(
                exc,
                verb="watch",
                resource=kind.crd_name,
                namespace=namespace,
                server=self.server,
                crd=kind.crd_name,
            ) from None

    # --- core objects --------------------------------------------------------------------

    def pods(self, selector: str) -> list[dict[str, Any]]:
        found = self._call(
            "GET",
            core_path("pods", self.namespace),
            verb="list",
            resource="pods",
            namespace=self.namespace,
            query={"labelSelector": selector},
        )
        return list(found.get("items", []))

    def events(self, uid: str) -> list[dict[str, Any]]:
        found = self._call(
            "GET",
            core_path("events", self.namespace),
            verb="list",
            resource="events",
            namespace=self.namespace,
            query={"fieldSelector": f"involvedObject.uid={uid}"},
        )
        return list(found.get("items", []))

    def configmap(self, namespace: str, name: str) -> dict[str, Any]:
        return self._call(
            "GET",
            core_path("configmaps", namespace, name),
            verb="get",
            resource="configmaps",
            namespace=namespace,
        )

    def annotate_configmap(
        self, namespace: str, name: str, annotations: Mapping[str, str]
    ) -> dict[str, Any]:
        return self._call(
            "PATCH",
            core_path("configmaps", namespace, name),
            verb="patch",
            resource="configmaps",
            namespace=namespace,
            body={"metadata": {"annotations": dict(annotations)}},
            content_type=MERGE_PATCH,
        )

    def deployments(self, selector: str) -> list[dict[str, Any]]:
        """Deployments matching ``selector`` in every namespace (empty when not allowed)."""
        try:
            found = self.client.request(
                "GET", "/apis/apps/v1/deployments", query={"labelSelector": selector}
            )
        except ApiError as exc:
            if exc.status in (401, 403):
                return []
            raise problems.from_api_error(
                exc, verb="list", resource="deployments.apps", namespace=None, server=self.server
            ) from None
        return list(found.get("items", []))

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        return self._call(
            "GET",
            f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            verb="get",
            resource="deployments.apps",
            namespace=namespace,
        )

    def log_stream(
        self,
        pod: str,
        *,
        container: str,
        follow: bool,
        tail_lines: int | None = None,
        timestamps: bool = False,
    ) -> Iterator[bytes]:
        """The container's log through the apiserver's Pod log API, chunk by chunk."""
        core = client.CoreV1Api(self.api)
        options: dict[str, Any] = {"container": container, "follow": follow}
        if tail_lines is not None:
            options["tail_lines"] = tail_lines
        if timestamps:
            options["timestamps"] = True
        try:
            response = core.read_namespaced_pod_log(
                pod, self.namespace, _preload_content=False, **options
            )
        except client.ApiException as exc:
            error = ApiError(int(exc.status or 0), str(exc.reason), str(exc.body or ""))
            raise problems.from_api_error(
                error,
                verb="get",
                resource="pods/log",
                namespace=self.namespace,
                server=self.server,
            ) from None
        except Exception as exc:  # noqa: BLE001 - urllib3 and socket errors: no response at all
            error = ApiError(0, type(exc).__name__, str(exc))
            raise problems.from_api_error(
                error, verb="get", resource="pods/log", namespace=self.namespace, server=self.server
            ) from None
        try:
            yield from response.stream(4096)  # type: ignore[attr-defined]
        finally:
            response.release_conn()  # type: ignore[attr-defined]
