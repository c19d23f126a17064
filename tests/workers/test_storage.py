"""Storage: conditional writes, the compare-and-swap loop and retries on a local directory and moto's S3
server, atomic file writes, redaction."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from workers.storage import (ConcurrentUpdateError, PreconditionFailed, RetryPolicy, classify, open_fs, open_storage,
                             put_atomic, redact_secrets, redact_uri, with_retries)

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


def test_update_decides_again_on_what_another_writer_stored(store):
    store.put_if_match("p.json", b"1", None)
    seen = []

    def add_one(data):
        seen.append(data)
        if len(seen) == 1:  # another writer swaps in between our read and our write
            store.put_if_match("p.json", b"10", store.read_versioned("p.json").etag)
        return str(int(data) + 1).encode()

    assert store.update("p.json", add_one)
    assert seen == [b"1", b"10"] and store.read("p.json") == b"11"
    assert not store.update("p.json", lambda data: None)  # "leave it": nothing written
    assert store.update("new.json", lambda data: b"first" if data is None else None)
    assert store.read("new.json") == b"first"


def test_update_gives_up_when_it_keeps_losing(store):
    def always_beaten(data):
        rival = int(data or b"0") + 1
        store.put_if_match("q", b"%d" % rival, store.read_versioned("q").etag if data else None)
        return b"mine"

    with pytest.raises(ConcurrentUpdateError, match="q kept changing"):
        store.update("q", always_beaten, attempts=3)


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
    assert redact_uri("s3://AKID:SE@CRET@bucket/p") == "s3://bucket/p"  # a secret holding '@' goes whole
    assert redact_uri("/local/path") == "/local/path"
    assert redact_uri("ray://host:10001") == "ray://host:10001"
    assert redact_uri("s3://bucket/a@b") == "s3://bucket/a@b"  # an '@' in the path is not a credential
    with pytest.raises(ValueError, match="not supported"):
        open_storage("gcs://bucket/p")


def test_secret_looking_keys_are_masked_at_any_depth():
    record = {"store": "s3://b/p", "settings": {"aws_secret_access_key": "x", "nested": [{"api_key": "y", "n": 1}]}}
    assert redact_secrets(record) == {"store": "s3://b/p",
                                      "settings": {"aws_secret_access_key": "***", "nested": [{"api_key": "***", "n": 1}]}}


@pytest.mark.parametrize("where", ["local", "s3"])
def test_put_atomic_replaces_a_whole_file(where, request, tmp_path):
    root = str(tmp_path / "files") if where == "local" else request.getfixturevalue("s3_bucket") + "/files"
    fs, path = open_fs(root)
    put_atomic(fs, f"{path}/a/LATEST", b"one")
    put_atomic(fs, f"{path}/a/LATEST", b"two")
    assert fs.cat_file(f"{path}/a/LATEST") == b"two"
    assert [p.rsplit("/", 1)[-1] for p in fs.ls(f"{path}/a", detail=False, refresh=True)] == ["LATEST"]
