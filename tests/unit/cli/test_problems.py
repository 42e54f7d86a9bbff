"""Tests for videodl.cli.problems and videodl.cli.suggest."""

from __future__ import annotations

from videodl.cli import problems, suggest
from videodl.kube.client import ApiError

RESOURCE = "videodownloads.videodl.dev"


class TestFromApiError:
    def test_forbidden_names_verb_and_resource(self) -> None:
        """A 403 says which verb on which resource in which namespace is missing."""
        error = problems.from_api_error(
            ApiError(403, "Forbidden", "cannot patch"),
            verb="patch",
            resource=RESOURCE,
            namespace="media",
        )
        assert error.message.startswith(
            f"permission denied: you may not patch {RESOURCE} in namespace media"
        )
        assert error.code == problems.EXIT_FAILURE

    def test_missing_crd_says_how_to_install(self) -> None:
        """A 404 on a list means the CRD is missing, and the message says how to install it."""
        error = problems.from_api_error(
            ApiError(404, "Not Found", ""),
            verb="list",
            resource=RESOURCE,
            namespace="media",
            crd=RESOURCE,
        )
        assert f"CustomResourceDefinition {RESOURCE} is not installed" in error.message
        assert "helm install" in error.message

    def test_no_cluster(self) -> None:
        """No response at all names the server and the flags to check."""
        error = problems.from_api_error(
            ApiError(0, "MaxRetryError", "connection refused"),
            verb="list",
            resource=RESOURCE,
            namespace=None,
            server="https://127.0.0.1:6443",
        )
        assert "cannot reach the cluster at https://127.0.0.1:6443" in error.message
        assert "--kubeconfig" in error.message

    def test_invalid_object(self) -> None:
        """A refused object passes on the apiserver's reasons."""
        error = problems.from_api_error(
            ApiError(422, "Invalid", "spec.url: must be http(s)"),
            verb="create",
            resource=RESOURCE,
            namespace="media",
        )
        assert (
            error.message
            == f"the apiserver refused to create {RESOURCE}: spec.url: must be http(s)"
        )


class TestSuggest:
    def test_close_names_first(self) -> None:
        """A typo finds the name; a prefix finds the longer names; nothing close, no hint."""
        known = ["clip", "talk-2024", "talk-2025", "other"]
        assert suggest.close_names("clpi", known) == ["clip"]
        assert set(suggest.close_names("talk", known)) == {"talk-2024", "talk-2025"}
        assert suggest.hint("zzzz", known) == ""
        assert suggest.hint("clpi", known) == "; did you mean clip?"
