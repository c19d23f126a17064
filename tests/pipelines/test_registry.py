"""The adapter registry on a local directory and on moto's S3 server (through s3fs), real bytes, real processes:
publishing, reading, pointers, refusals. Verify, gc and the index: test_registry_upkeep.py."""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp

import pytest
import torch
from safetensors.torch import save as st_save

from hypernet.config import SERVING_RANKS
from hypernet.peft_format import (ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, peft_adapter_config, peft_state_dict,
                                  serving_config_problems, to_peft_files, validate_adapter)
from pipelines.registry import AdapterKey, Registry
from tests.pipelines.adapter_files import D_IN, D_OUT, LAYERS, make_files, make_key, make_lora


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- keys ----------------------------------------------------------------------------------------------
def test_version_id_is_deterministic_and_unambiguous():
    a = AdapterKey("ab", "c", "h", "m", "r")
    assert a.version_id == AdapterKey("ab", "c", "h", "m", "r").version_id
    assert a.version_id != AdapterKey("a", "bc", "h", "m", "r").version_id
    assert len(a.version_id) == 20 and int(a.version_id, 16) >= 0


@pytest.mark.parametrize("doc_id", ["a/b", "..", "x..y", ".hidden", ""])
def test_unsafe_doc_ids_are_refused(doc_id, local_registry):
    with pytest.raises(ValueError):
        make_key(doc_id)
    with pytest.raises(ValueError):
        local_registry.latest(doc_id)


# -- publish / latest / load ---------------------------------------------------------------------------------
def test_publish_then_latest_and_load_round_trip(registry):
    files = make_files(0)
    key = make_key("doc-a")
    result = registry.publish(key, files, {"hypernet_checkpoint": "ckpt-1", "chunks": 1}, run_id="run-1")
    assert (result.created, result.pointer_moved, result.version_id) == (True, True, key.version_id)

    manifest = registry.latest("doc-a")
    assert manifest["version_id"] == key.version_id and manifest["doc_sha256"] == "s1"
    assert manifest["rank"] == 8 and manifest["run_id"] == "run-1" and manifest["lineage"]["chunks"] == 1
    assert set(manifest["files"]) == {ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE}
    assert registry.pointer("doc-a")["version_id"] == key.version_id
    assert registry.has_version(key) and registry.load_files("doc-a") == files
    assert registry.load_files("doc-a", key.version_id) == files

    raw = registry.store.read(f"docs/doc-a/versions/{key.version_id}/manifest.json")
    pointer = registry.store.read("docs/doc-a/latest.json")
    again = registry.publish(key, make_files(99), run_id="run-2")  # same key: a no-op, whatever the bytes
    assert (again.created, again.pointer_moved) == (False, False)
    assert registry.store.read(f"docs/doc-a/versions/{key.version_id}/manifest.json") == raw
    assert registry.store.read("docs/doc-a/latest.json") == pointer
    assert registry.load_files("doc-a") == files and len(registry.versions("doc-a")) == 1
    assert registry.latest("doc-b") is None and registry.pointer("doc-b") is None


def test_new_document_content_becomes_the_latest_version(registry):
    registry.publish(make_key("doc-a", "s1"), make_files(1))
    registry.publish(make_key("doc-a", "s2"), make_files(2))
    assert registry.latest("doc-a")["doc_sha256"] == "s2"
    assert [m["doc_sha256"] for m in registry.versions("doc-a")] == ["s1", "s2"]
    assert registry.load_files("doc-a") == make_files(2)


# -- concurrency -----------------------------------------------------------------------------------
def _publish_worker(uris: list[str], jobs: list, start, out) -> None:
    """Child process: publish every job to each registry once the start signal fires; report what happened."""
    registries = [Registry(uri) for uri in uris]
    start.wait()
    report = []
    for registry in registries:
        for key, files in jobs:
            try:
                r = registry.publish(key, files, {"worker": True})
                report.append((registry.uri, key.doc_id, r.created, None))
            except Exception as exc:  # reported to the parent, which fails the test
                report.append((registry.uri, key.doc_id, None, repr(exc)))
    out.put(report)


def test_two_processes_publishing_the_same_docs_end_consistent(tmp_path, s3_bucket):
    # One pair of processes races on both back-ends in turn: spawning (and importing torch) costs more
    # than the publishing.
    registries = [Registry(str(tmp_path / "registry")), Registry(s3_bucket + "/registry")]
    jobs = [(make_key(f"doc-{i:02d}", f"sha-{i}"), make_files(i)) for i in range(50)]
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_publish_worker, args=([r.uri for r in registries], jobs, start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        start.set()
        reports = [out.get(timeout=600) for _ in procs]  # generous: a loaded 2-core box imports torch slowly
        for p in procs:
            p.join(timeout=300)
        assert [p.exitcode for p in procs] == [0, 0]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()

    assert [r for report in reports for r in report if r[3] is not None] == []  # no errors at all
    for registry in registries:
        creators = {}
        for report in reports:
            for uri, doc_id, created, _ in report:
                if uri == registry.uri:
                    creators[doc_id] = creators.get(doc_id, 0) + int(created)
        assert sorted(creators) == sorted(k.doc_id for k, _ in jobs)
        # A local create-only write is atomic: exactly one creator. moto checks If-None-Match and then
        # writes without a lock, so on its server both may "create" the same (identical) version.
        local = not registry.uri.startswith("s3://")
        assert all(n == 1 if local else n >= 1 for n in creators.values())
        for key, files in jobs:
            [manifest] = registry.versions(key.doc_id)  # exactly one version per key
            assert manifest["version_id"] == key.version_id
            assert {n: m["sha256"] for n, m in manifest["files"].items()} == {n: _sha(d) for n, d in files.items()}
            assert registry.pointer(key.doc_id)["version_id"] == key.version_id
        assert registry.verify() == []  # stored bytes match the manifests; no dangling pointers


# -- crashes --------------------------------------------------------------------------------------------
def test_interrupted_publish_leaves_the_previous_version_served(registry):
    old, new = make_key("doc-a", "s1"), make_key("doc-a", "s2")
    registry.publish(old, make_files(1))
    # Crash after the adapter files, before the manifest: the version does not exist.
    for name, data in make_files(2).items():
        assert registry.store.put_new(f"docs/doc-a/versions/{new.version_id}/{name}", data)
    assert registry.latest("doc-a")["version_id"] == old.version_id
    assert not registry.has_version(new) and len(registry.versions("doc-a")) == 1
    assert registry.verify() == []
    # Crash after the manifest, before the pointer: the version exists but is not served.
    manifest, created = registry._write_version(new, make_files(2), None, "run-x", 8)
    assert created and registry.has_version(new)
    assert registry.latest("doc-a")["version_id"] == old.version_id
    # The next run completes it without rewriting anything.
    done = registry.publish(new, make_files(2))
    assert (done.created, done.pointer_moved) == (False, True)
    assert registry.latest("doc-a")["version_id"] == new.version_id
    assert registry.verify() == []


def test_publish_adopts_the_files_a_crashed_publish_left(local_registry):
    key = make_key("doc-a")
    left = make_files(5)  # a non-deterministic generator would make different bytes on the rerun
    for name, data in left.items():
        local_registry.store.put_new(f"docs/doc-a/versions/{key.version_id}/{name}", data)
    result = local_registry.publish(key, make_files(6))
    assert result.created and local_registry.load_files("doc-a") == left
    assert local_registry.verify() == []


# -- refusing broken adapters ----------------------------------------------------------------------------
def _files(state: dict, config: dict) -> dict[str, bytes]:
    return {ADAPTER_CONFIG_FILE: json.dumps(config).encode(), ADAPTER_WEIGHTS_FILE: st_save(state)}


def _broken(case: str) -> dict[str, bytes]:
    lora = make_lora(3)
    state, config = peft_state_dict(lora), peft_adapter_config(lora, "tiny/base")
    key0 = next(iter(state))
    if case == "nan":
        state[key0] = state[key0].clone()
        state[key0][0, 0] = float("nan")
    elif case == "rank":
        lora = make_lora(3, rank=12)  # not a serving rank: vLLM would refuse it
        state, config = peft_state_dict(lora), peft_adapter_config(lora, "tiny/base")
    elif case == "key":
        state[key0.replace("lora_A.weight", "lora_A.default.weight")] = state.pop(key0)
    elif case == "missing_B":
        state.pop(key0.replace("lora_A", "lora_B"))
    elif case == "bias":
        config["bias"] = "all"
    elif case == "modules_to_save":
        config["modules_to_save"] = ["lm_head"]
    files = _files(state, config)
    if case == "pickle":
        files["adapter_model.bin"] = b"\x80\x04pickle"
    elif case == "not_safetensors":
        files[ADAPTER_WEIGHTS_FILE] = b"garbage"
    elif case == "not_json":
        files[ADAPTER_CONFIG_FILE] = b"{r: 8"
    return files


@pytest.mark.parametrize("case", ["nan", "rank", "key", "missing_B", "bias", "modules_to_save", "pickle",
                                  "not_safetensors", "not_json"])
def test_broken_adapter_is_refused_and_nothing_is_written(case, local_registry):
    with pytest.raises(ValueError):
        local_registry.publish(make_key("doc-a"), _broken(case))
    assert local_registry.store.list("") == []  # not even a folder
    assert local_registry.pointer("doc-a") is None and local_registry.versions("doc-a") == []


# -- tombstones and rollback -----------------------------------------------------------------------------
def test_tombstone_hides_a_document_until_it_is_published_again(local_registry):
    reg = local_registry
    reg.publish(make_key("doc-a", "s1"), make_files(1))
    assert reg.tombstone("doc-a", "removed upstream", run_id="nightly")
    assert not reg.tombstone("doc-a")  # already
    assert not reg.tombstone("never-seen")  # nothing to delete
    assert reg.latest("doc-a") is None
    pointer = reg.pointer("doc-a")
    assert pointer["tombstone"] and pointer["reason"] == "removed upstream" and pointer["run_id"] == "nightly"
    assert len(reg.versions("doc-a")) == 1  # kept until gc
    assert [r["tombstoned"] for r in reg.list()] == [True]
    with pytest.raises(KeyError):
        reg.load_files("doc-a")
    result = reg.publish(make_key("doc-a", "s2"), make_files(2))
    assert result.pointer_moved and reg.latest("doc-a")["doc_sha256"] == "s2"
    assert reg.verify() == []


def test_rollback_serves_an_older_version(local_registry):
    reg = local_registry
    v1, v2 = make_key("doc-a", "s1"), make_key("doc-a", "s2")
    reg.publish(v1, make_files(1))
    reg.publish(v2, make_files(2))
    reg.rollback("doc-a", v1.version_id)
    assert reg.latest("doc-a")["version_id"] == v1.version_id and reg.load_files("doc-a") == make_files(1)
    assert reg.list()[0]["version_id"] == v1.version_id
    with pytest.raises(KeyError):
        reg.rollback("doc-a", make_key("doc-a", "s9").version_id)
    reg.tombstone("doc-a")
    reg.rollback("doc-a", v2.version_id)  # undoes a tombstone too
    assert reg.latest("doc-a")["version_id"] == v2.version_id


def test_credentials_stay_out_of_manifests_and_logs(s3_bucket, caplog):
    secret = "sEcReT-probe-4711"
    reg = Registry(s3_bucket + "/reg", {"key": "AKIDPROBE4711", "secret": secret})
    with caplog.at_level(logging.DEBUG):
        reg.publish(make_key("doc-a"), make_files(0), {"settings": {"aws_secret_access_key": secret, "chunks": 2}})
        reg.latest("doc-a")
    lineage = reg.latest("doc-a")["lineage"]
    assert lineage == {"settings": {"aws_secret_access_key": "***", "chunks": 2}}
    assert secret not in caplog.text  # anywhere, botocore's debug output included
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("pipelines"))
    assert ours and "AKIDPROBE4711" not in ours  # botocore itself logs the key id at DEBUG, never the secret
    assert secret not in repr(reg) and secret not in repr(reg.store)


# -- export ------------------------------------------------------------------------------------------------
def test_export_loads_with_peft_and_passes_vllm_rules(local_registry, tmp_path):
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    files = to_peft_files(make_lora(7, rank=5), "tiny/base")  # padded to a serving rank on the way
    local_registry.publish(make_key("doc-a"), files)
    folder = local_registry.export("doc-a", str(tmp_path / "export"))

    config = json.loads(open(f"{folder}/{ADAPTER_CONFIG_FILE}").read())
    assert config["r"] in SERVING_RANKS and config["r"] == 8
    assert config["bias"] == "none" and not config.get("modules_to_save")
    assert serving_config_problems(config) == [] and validate_adapter(files) == 8

    torch.manual_seed(0)
    base = Gemma3ForCausalLM(Gemma3TextConfig(
        vocab_size=128, hidden_size=D_OUT, intermediate_size=D_IN, num_hidden_layers=LAYERS, num_attention_heads=1,
        num_key_value_heads=1, head_dim=8, sliding_window=16, layer_types=["sliding_attention", "full_attention"]))
    model = PeftModel.from_pretrained(base, folder)
    loaded = get_peft_model_state_dict(model)
    stored = load_file(f"{folder}/{ADAPTER_WEIGHTS_FILE}")
    assert set(loaded) == set(stored)  # no missing, no unexpected LoRA keys
    for name, tensor in stored.items():
        assert torch.equal(loaded[name], tensor), name


def test_load_files_fills_and_reuses_a_local_cache_keyed_by_sha256(s3_bucket, tmp_path):
    """Serving reads each adapter from S3 once; a corrupt cache entry is ignored, not served."""
    import torch

    from hypernet.lora import LoraTensors
    from hypernet.peft_format import to_peft_files
    from pipelines.registry import AdapterKey, Registry

    cache = tmp_path / "cache"
    reg = Registry(f"{s3_bucket}/reg", cache_dir=str(cache))
    lora = LoraTensors({"mlp.down_proj": (torch.randn(2, 8, 16), torch.randn(2, 8, 8))})
    files = to_peft_files(lora, "base")
    key = AdapterKey("doc-1", "a" * 64, "hn-x", "base", "rev")
    reg.publish(key, files)
    assert reg.load_files("doc-1") == files
    cached = sorted(p.name for p in cache.iterdir())
    assert len(cached) == 2
    # Delete the store's copies: the cache alone now serves them.
    import s3fs

    fs = s3fs.S3FileSystem()
    for path in fs.find(f"{s3_bucket}/reg/docs/doc-1/versions"):
        if not path.endswith("manifest.json"):
            fs.rm(path)
    assert reg.load_files("doc-1") == files
    # A corrupt cache entry is not served.
    (cache / cached[0]).write_bytes(b"garbage")
    reg2 = Registry(f"{s3_bucket}/reg", cache_dir=str(cache))
    try:
        reg2.load_files("doc-1")
        raised = False
    except Exception:
        raised = True
    assert raised, "a corrupt cache entry with the store copy gone must not be served"
