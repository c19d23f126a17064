"""Keep freed memory in the process for reuse, instead of handing it back to the kernel every step.

A training or refinement step allocates and frees tensors of hundreds of MB. glibc serves each
allocation over its mmap threshold (32 MB at most) with a fresh mapping and unmaps it when freed,
so every step faults its working set in again, page by page, zeroed by the kernel: a dense
training step on 16 real documents took 4.4 GB of page faults and 2.5 s instead of 1.3 s
(docs/benchmarks.md). Serving everything from the heap, and trimming its top only beyond 1 GiB
free, lets the next step reuse the pages; a process then holds on to its peak.
"""
from __future__ import annotations

import ctypes
import sys

TRIM_THRESHOLD = 1 << 30
# The same settings as environment variables, read by glibc when a process starts.
ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


def reuse_freed_memory() -> bool:
    """Apply the settings to this process now (glibc's mallopt); False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):  # musl and others: no mallopt, nothing to tune
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
