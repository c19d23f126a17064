"""Shared fixtures: a real moto S3 server, a real local Ray, the Prefect harness, a tiny model.

Everything here is real: S3 is moto's HTTP server on 127.0.0.1 spoken to through s3fs, Ray is
a local instance, Prefect flows run against a temporary ephemeral API.
"""
from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Ray Train's controller polls its workers every 2 s by default, and a worker's ray.train.report blocks
# until the previous report was collected: every training step of the tiny jobs would last 2 s. Ray
# Train hands this setting from the driver to its controller; a missed poll only counts after 10 min.
# Not shorter: tests/workers/test_meta_train.py kills a worker right after the first checkpoint and
# needs the job to be a few polls (steps) away from its end when the kill lands.
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.5")


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# -- S3: moto's server on 127.0.0.1 ---------------------------------------------------------
@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
    )
    yield endpoint
    server.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def s3_bucket(s3_server):
    """A fresh bucket on the moto server; yields its `s3://bucket` URI."""
    import s3fs

    name = f"test-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_server})
    fs.mkdir(name)
    s3fs.S3FileSystem.clear_instance_cache()
    yield f"s3://{name}"


# -- Ray: one local instance per session ------------------------------------------------------
@pytest.fixture(scope="session")
def ray_local(tmp_path_factory):
    import ray

    from workers.ray_runtime import runtime_env

    tmp = tmp_path_factory.mktemp("ray")
    os.environ.setdefault("RAY_TMPDIR", str(tmp))
    # More logical CPUs than cores: an actor pool must not starve Ray Data's read tasks.
    ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, _temp_dir=str(tmp),
             runtime_env={"env_vars": {"TOKENIZERS_PARALLELISM": "false"},
                          "worker_process_setup_hook": runtime_env(remote=False)["worker_process_setup_hook"]})
    yield ray
    ray.shutdown()


# -- Prefect: one harness per session -----------------------------------------------------------
@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# -- Models -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def packaged_model_path():
    """The real packaged gemma-3-270m as a safetensors folder (converted once, then cached)."""
    from hypernet import base_model

    return base_model.resolve(base_model.PACKAGED).path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, packaged_model_path) -> str:
    """A tiny randomly initialised Gemma-3 with the real tokenizer: fast, same code paths."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(packaged_model_path)
    cfg = Gemma3TextConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=2048,
        sliding_window=128, layer_types=["sliding_attention", "full_attention"],
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )
    folder = Path(tmp_path_factory.mktemp("tiny-gemma"))
    Gemma3ForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_hypernet_path(tmp_path_factory, tiny_model_path) -> str:
    """An untrained hypernetwork checkpoint sized for the tiny model."""
    from transformers import AutoConfig

    from hypernet.config import HypernetConfig
    from hypernet.model import HyperNetwork

    cfg = HypernetConfig.for_base_model(
        AutoConfig.from_pretrained(tiny_model_path), latent_dim=32, n_latents=4, n_heads=2, head_dim=16,
        chunk_len=64,
    )
    folder = tmp_path_factory.mktemp("tiny-hypernet")
    net = HyperNetwork(cfg)
    # Give B a non-zero scale so adapters change outputs (a trained net would have learned one).
    for head in net.heads.values():
        head.b_scale.data.fill_(1.0)
    net.save(str(folder), extra={"hypernet_id": "tiny-test"})
    return str(folder)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
