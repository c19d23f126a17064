"""Prepare a checkpoint for retrieval training: fresh copy-head attention, the copy_next path on.

    python infra/offline_gpu/reinit_copy_heads.py SRC DST [--seed N]

Why: copy heads trained without the retrieval loss can settle on near one-hot attention to
positions that never hold the answer, a minimum the retrieval loss cannot climb out of. Re-drawing each copy head's query and key (std 0.02) makes the attention
near-uniform again, so every position gets a gradient. copy_next starts as a copy of the existing
path (to_a_prev = to_a: key on the preceding token's residual as the copied one is keyed; to_b_token
= identity: write the attended token's embedding, which the tied LM head reads back as that token)
instead of zero, so the induction path carries signal from the first step. Everything else (the
Perceiver, the LoRA heads, the bias LoRA) keeps its trained weights. Written in float32.
"""
from __future__ import annotations

import argparse
import json
import os

import torch

from hypernet.config import checkpoint_meta
from hypernet.model import HyperNetwork


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="checkpoint folder to start from")
    p.add_argument("dst", help="folder to write")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    net = HyperNetwork.load(args.src, copy_next=True)
    with torch.no_grad():
        for head in net.copy_heads.values():
            for linear in (head.query, head.key):
                torch.nn.init.normal_(linear.weight, std=0.02)
            head.to_a_prev.copy_(head.to_a)
            head.to_b_token.copy_(torch.eye(*head.to_b_token.shape))
    meta = checkpoint_meta(args.src)
    net.save(args.dst, extra={"started_from": f"{args.src} (copy attention re-drawn, copy_next added)",
                              "total_steps": meta.get("total_steps", meta.get("step", 0))})
    print(json.dumps({"written": os.path.abspath(args.dst), "copy_heads": list(net.copy_heads)}))


if __name__ == "__main__":
    main()
