"""A live progress bar on stderr for a run over many documents, and its final summary line."""
from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """Documents done / total, docs per second and ETA; silent when disabled."""

    def __init__(self, total: int, enabled: bool, desc: str = "adapters"):
        self.bar = tqdm(total=total, desc=desc, unit="doc", file=sys.stderr, disable=not enabled,
                        mininterval=0.5, dynamic_ncols=True, smoothing=0.1)
        self.failed = 0

    def update(self, ok: bool) -> None:
        self.failed += 0 if ok else 1
        if self.failed:
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(1)

    def close(self, summary_line: str) -> None:
        disabled = self.bar.disable
        self.bar.close()
        if not disabled:
            print(summary_line, file=sys.stderr, flush=True)
