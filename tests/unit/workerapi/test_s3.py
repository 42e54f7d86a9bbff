"""Tests for videodl.workerapi.s3: resolving defaults and reading the Pod's variables."""

from __future__ import annotations

import pytest

from videodl.api.output import S3Output
from videodl.workerapi import environment, s3


def test_resolve_without_a_bucket_names_both_fixes() -> None:
    with pytest.raises(s3.MissingBucketError, match=r"spec.output.s3.bucket .* --s3-bucket"):
        s3.resolve(S3Output(), s3.S3Defaults())


def test_part_size_never_below_the_s3_minimum() -> None:
    target = s3.resolve(S3Output(bucket="bkt"), s3.S3Defaults(part_size_bytes=1))
    assert target.part_size_bytes == s3.MIN_PART_SIZE_BYTES


def test_environment_round_trip_keeps_keys_out_of_repr() -> None:
    target = s3.resolve(
        S3Output(bucket="bkt", keyPrefix="a/b", endpoint="http://127.0.0.1:9000"),
        s3.S3Defaults(credentials_secret="keys"),
    )
    variables = {e["name"]: e["value"] for e in s3.environment_of(target) if "value" in e}
    variables |= {s3.ACCESS_KEY_ID: "AKID", s3.SECRET_ACCESS_KEY: "very-secret"}
    loaded = s3.load(variables)
    assert loaded == target
    assert loaded.keys == s3.AccessKeys("AKID", "very-secret")
    assert "very-secret" not in repr(loaded)
    assert loaded.key("x/y.mp4") == "a/b/x/y.mp4"
    assert loaded.uri(loaded.key("y.mp4")) == "s3://bkt/a/b/y.mp4"


def test_a_named_secret_without_keys_is_an_environment_error() -> None:
    with pytest.raises(ValueError, match="received no access key id"):
        s3.load({s3.BUCKET: "bkt", s3.CREDENTIALS_SECRET: "keys"})


def test_job_of_an_s3_download_needs_the_bucket_variable() -> None:
    spec = '{"url": "https://example.com/v", "output": {"s3": {}}}'
    base = {environment.SPEC: spec, environment.PROGRESS: "off"}
    with pytest.raises(environment.InvalidEnvironmentError, match=s3.BUCKET):
        environment.load(base)
    job = environment.load({**base, s3.BUCKET: "bkt"})
    assert job.s3 is not None
    assert job.s3.bucket == "bkt"


def test_marker_keys_are_one_object_per_video() -> None:
    assert s3.marker_key("p", "youtube abc/d") == "p/.videodl-archive/youtube%20abc%2Fd"
    assert s3.marker_key("", "generic x") == ".videodl-archive/generic%20x"
