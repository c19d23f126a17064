"""Joining a Ray cluster ships the project's code, and the packaged checkpoint only when it is used."""
from __future__ import annotations

from workers.ray_runtime import runtime_env


def test_a_remote_cluster_gets_the_code_and_the_default_checkpoint_only_when_used():
    shipped = runtime_env(True)
    assert [m.__name__ for m in shipped["py_modules"]] == ["hypernet", "workers"]
    assert "checkpoints" not in shipped["excludes"]
    assert "checkpoints" in runtime_env(True, ship_default_checkpoint=False)["excludes"]
    assert "py_modules" not in runtime_env(False)  # a local Ray imports the code from here
