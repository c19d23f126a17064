"""Freed memory stays in the process for the next step instead of being faulted in again."""
from __future__ import annotations

import subprocess
import sys

import pytest

from workers import heap
from workers.ray_runtime import WORKER_ENV

# In a fresh process: page faults of a step that fills a 64 MB tensor and frees it, after ten such steps
# (the heap settles after a few: a request of the same size does not fit the last one's freed chunk).
_STEP_FAULTS = """
import resource, sys, torch
from workers.heap import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
for _ in range(10):
    torch.empty(1 << 24).fill_(1.0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.empty(1 << 24).fill_(2.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _step_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _STEP_FAULTS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_freed_large_buffer_is_reused_without_page_faults():
    pages = (1 << 26) // 4096
    assert _step_faults("default") > pages // 2  # glibc maps it afresh: every page faults again
    assert _step_faults("reuse") < pages // 20


def test_workers_of_a_ray_started_here_get_the_same_settings_from_their_start():
    assert heap.ENV.items() <= WORKER_ENV.items()
