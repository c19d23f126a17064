"""Joining a Ray cluster ships the project's code, and the packaged checkpoint only when it is used;
every worker process quiets Ray Train's per-step and State API messages."""
from __future__ import annotations

import os

from workers.ray_runtime import QUIET_WORKER_LOGGERS, runtime_env


def test_a_remote_cluster_gets_the_code_and_the_default_checkpoint_only_when_used():
    shipped = runtime_env(True)
    assert [m.__name__ for m in shipped["py_modules"]] == ["hypernet", "workers"]
    assert "checkpoints" not in shipped["excludes"]
    assert "checkpoints" in runtime_env(True, ship_default_checkpoint=False)["excludes"]
    assert "py_modules" not in runtime_env(False)  # a local Ray imports the code from here


def test_every_ray_worker_process_runs_the_hook_that_quiets_ray_trains_noise(ray_local):
    # conftest's Ray takes its setup hook from runtime_env, as workers.ray_runtime.start does
    assert runtime_env(False)["worker_process_setup_hook"] == runtime_env(True)["worker_process_setup_hook"]

    @ray_local.remote
    def levels() -> dict[str, int]:
        import logging

        return {name: logging.getLogger(name).level for name in QUIET_WORKER_LOGGERS}

    assert ray_local.get(levels.remote()) == QUIET_WORKER_LOGGERS
    # the report logger is named by its file: a Ray that moves the file needs the new path here
    assert all(os.path.isfile(name) for name in QUIET_WORKER_LOGGERS if name.startswith(os.sep))
