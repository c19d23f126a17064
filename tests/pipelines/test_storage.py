"""Conditional writes and retries of the registry's storage, on a local directory and moto's S3 server."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from pipelines.storage import PreconditionFailed, RetryPolicy, classify, open_storage, redact_uri, with_retries

FAST = RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.01)


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutObject")


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return open_storage(str(tmp_path / "root"))
    return open_storage(request.getfixturevalue("s3_bucket") + "/root")


def test_create_only_put_refuses_an_existing_object(store):
    assert store.put_new("a/b.json", b"one")
    assert not store.put_new("a/b.json", b"two")
    assert store.read("a/b.json") == b"one"
    assert store.read("a/missing") is None
    assert store.list("a") == ["b.json"]
    assert store.list("nope") == []


def test_compare_and_swap_needs_the_etag_it_read(store):
    first = store.put_if_match("p.json", b"v1", None)
    with pytest.raises(PreconditionFailed):
        store.put_if_match("p.json", b"v1b", None)  # None means "only if absent"
    got = store.read_versioned("p.json")
    assert got.data == b"v1" and got.etag == first
    second = store.put_if_match("p.json", b"v2", got.etag)
    with pytest.raises(PreconditionFailed):
        store.put_if_match("p.json", b"v3", got.etag)  # stale: someone (we) moved it since
    assert store.read_versioned("p.json") == type(got)(b"v2", second)
    store.delete("p.json")
    with pytest.raises(PreconditionFailed):
        store.put_if_match("p.json", b"v4", second)  # deleted since read


def test_delete_tree_removes_a_folder(store):
    store.put_new("d/v/x", b"1")
    store.put_new("d/v/y", b"2")
    assert store.modified("d/v/x") is not None
    store.delete_tree("d/v")
    assert store.list("d/v") == [] and store.read("d/v/x") is None and store.modified("d/v/x") is None


def test_throttling_and_connection_errors_are_retried():
    failures = [client_error("SlowDown", 503), client_error("ServiceUnavailable", 503),
                EndpointConnectionError(endpoint_url="http://127.0.0.1:1")]
    calls = []

    def flaky():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    assert with_retries(flaky, FAST, "put x") == "ok"
    assert len(calls) == 4


def test_precondition_failed_is_never_retried():
    calls = []

    def lost():
        calls.append(1)
        raise client_error("PreconditionFailed", 412)

    with pytest.raises(ClientError):
        with_retries(lost, FAST, "put x")
    assert len(calls) == 1
    assert classify(client_error("PreconditionFailed", 412)) == "precondition"
    assert classify(client_error("NoSuchKey", 404)) == "not_found"
    assert classify(client_error("AccessDenied", 403)) == "other"


def test_retries_give_up_after_the_last_attempt():
    calls = []

    def down():
        calls.append(1)
        raise client_error("SlowDown", 503)

    with pytest.raises(ClientError):
        with_retries(down, FAST, "put x")
    assert len(calls) == FAST.attempts


def test_uris_are_redacted_and_unknown_schemes_refused():
    assert redact_uri("s3://AKID:SECRET@bucket/p") == "s3://bucket/p"
    with pytest.raises(ValueError, match="not supported"):
        open_storage("gcs://bucket/p")
