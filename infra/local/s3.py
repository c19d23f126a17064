"""The stack's object store: moto's S3 server on 127.0.0.1, and its bucket."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from infra.local.config import DUMMY_AWS, StackConfig
from infra.local.procs import Proc, base_env, executable, free_port, spawn


def start_s3(cfg: StackConfig, state: Path, log: Callable[[str], None]) -> tuple[Proc, dict[str, str]]:
    """Start the server (not yet ready); the process and the variables that point a client at it."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = spawn("s3", [executable("moto_server"), "-H", "127.0.0.1", "-p", str(port)], state / "logs" / "s3.log",
                 base_env(), endpoint)
    log(f"s3: moto server on {endpoint} (pid {proc.pid})")
    return proc, {"AWS_ENDPOINT_URL": endpoint, **DUMMY_AWS, "DOCPATCH_STORE": f"s3://{cfg.bucket}/{cfg.prefix}"}


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
                          region_name=DUMMY_AWS["AWS_DEFAULT_REGION"])
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
