"""A base model of the same architecture with random weights, for throughput runs only.

Throughput does not depend on the weights' values, and the real ones may not fit where a benchmark
has to run (the GPU machines here take 64 MiB per call; gemma-3-270m's GGUF is 253 MB). The
folder gets the source's config and tokenizer files and bf16 random weights (seeded).

    python bench/random_base_model.py SOURCE_FOLDER OUT_FOLDER
    python bench/bench_pipeline.py --base-model OUT_FOLDER --gpus 1 --docs 1000
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a model folder with config.json and tokenizer files (its weights are not read)")
    ap.add_argument("out", help="where the random model goes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    src, dst = Path(args.source), Path(args.out)
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(src), dtype=torch.bfloat16)
    model.save_pretrained(dst)
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, dst / name)
    print(f"{dst}: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M random parameters, architecture of {src}")


if __name__ == "__main__":
    main()
