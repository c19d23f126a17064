"""Shared fixtures of the pipelines tests: adapter registries to publish to."""
from __future__ import annotations

import pytest

from pipelines.registry import Registry


@pytest.fixture(params=["local", "s3"])
def registry(request, tmp_path) -> Registry:
    """A registry on a local directory, then one on moto's S3 server."""
    if request.param == "local":
        return Registry(str(tmp_path / "registry"))
    return Registry(request.getfixturevalue("s3_bucket") + "/registry")


@pytest.fixture
def local_registry(tmp_path) -> Registry:
    return Registry(str(tmp_path / "registry"))
