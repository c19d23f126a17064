"""A Ray driver for tests/infra/test_cluster.py, run in its own process (the test process may already
hold a local Ray): start model actors (workers.stages.AdapterStage) on a cluster with the resources
the adapter pipeline gives them, one GPU each, one more than there are GPUs; print as one JSON line
which became ready, what the cluster has left, and its nodes. Each ready actor writes its report
(node, GPU ids, CUDA_VISIBLE_DEVICES, device) to REPORT_DIR.

    python tests/infra/gpu_pinning_driver.py ADDRESS BASE_MODEL HYPERNET REPORT_DIR
"""
from __future__ import annotations

import json
import sys

import ray

from workers import ray_runtime
from workers.config import WorkerConfig
from workers.pipeline import model_actor_resources
from workers.stages import AdapterStage


def main(address: str, base_model: str, hypernet: str, report_dir: str) -> None:
    cfg = WorkerConfig(base_model=base_model, hypernet_path=hypernet, ray_address=address, num_actors=2,
                       gpus_per_actor=1, cpus_per_actor=0.5, torch_threads=1, actor_report_dir=report_dir)
    ray.init(address=address, runtime_env=ray_runtime.runtime_env(True, ship_default_checkpoint=False),
             log_to_driver=False)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    stage = ray.remote(AdapterStage).options(**model_actor_resources(cfg))
    actors = [stage.remote(cfg) for _ in range(gpus + 1)]
    waiting = [a.__ray_ready__.remote() for a in actors]
    ready, pending = ray.wait(waiting, num_returns=gpus, timeout=300)
    late, _ = ray.wait(pending, timeout=5)  # the extra actor must find no free GPU
    nodes = [{"node_id": n["NodeID"], "gpus": n["Resources"].get("GPU", 0)} for n in ray.nodes() if n["Alive"]]
    print(json.dumps({"gpus": gpus, "ready": len(ready), "extra_ready": len(late),
                      "gpus_available": ray.available_resources().get("GPU", 0), "nodes": nodes}))
    ray.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:5])
