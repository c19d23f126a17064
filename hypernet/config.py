"""Configuration dataclasses for the hypernetwork and the adapters it emits.

Only dataclasses live here: the model code reads them, checkpoints save them as JSON
beside the weights, so a checkpoint rebuilds its model alone.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

# vLLM / LoRAX accept only these ranks; exported adapters are zero-padded up to one of them.
SERVING_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)

CHUNK_COMBINE_RULES = ("sum", "mean", "sqrt")

# A checkpoint folder: weights (safetensors) + this JSON ({"config": HypernetConfig, ...extra}).
CONFIG_FILE = "hypernet_config.json"
WEIGHTS_FILE = "hypernet.safetensors"


def checkpoint_meta(folder: str) -> dict[str, Any]:
    """A checkpoint folder's JSON: {"config": HypernetConfig fields, ...what its trainer added}."""
    path = os.path.join(folder, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no hypernetwork checkpoint in {folder} (missing {CONFIG_FILE})")
    with open(path) as fh:
        return json.load(fh)


def default_checkpoint() -> str:
    """The checkpoint that ships inside the package (trained on CPU; see its TRAINING.md)."""
    return os.path.join(os.path.dirname(__file__), "checkpoints", "default")


@dataclass
class TargetModule:
    """One family of linear layers the adapter patches, e.g. `mlp.down_proj` in every layer."""

    name: str = field(default="mlp.down_proj", metadata={"help": "module path inside a decoder layer"})
    d_in: int = field(default=2048, metadata={"help": "input features of the linear layer"})
    d_out: int = field(default=640, metadata={"help": "output features of the linear layer"})

    def __post_init__(self) -> None:
        if not self.name or self.name.startswith(".") or self.name.endswith("."):
            raise ValueError(f"TargetModule.name {self.name!r} must be a dotted path like 'mlp.down_proj'")
        if self.d_in <= 0 or self.d_out <= 0:
            raise ValueError(f"TargetModule d_in={self.d_in}, d_out={self.d_out} must be positive")


@dataclass
class HypernetConfig:
    """Sizes of the hypernetwork and of the LoRA it emits. Saved with every checkpoint."""

    base_model_id: str = field(default="google/gemma-3-270m", metadata={"help": "base model the adapters are for"})
    n_layers: int = field(default=18, metadata={"help": "decoder layers of the base model"})
    hidden_size: int = field(default=640, metadata={"help": "hidden size of the base model"})
    targets: list[TargetModule] = field(
        default_factory=lambda: [TargetModule()], metadata={"help": "modules patched in every layer"}
    )
    rank: int = field(default=8, metadata={"help": "LoRA rank emitted per chunk"})
    bias_rank: int = field(default=8, metadata={"help": "rank of the context-independent bias LoRA (0: none)"})
    latent_dim: int = field(default=128, metadata={"help": "width of the Perceiver aggregator"})
    n_latents: int = field(default=16, metadata={"help": "learned latents reading the tokens"})
    n_heads: int = field(default=4, metadata={"help": "attention heads in the aggregator"})
    n_self_blocks: int = field(default=1, metadata={"help": "self-attention blocks over the latents"})
    head_dim: int = field(default=64, metadata={"help": "width of the rank-row vector fed to the per-layer heads"})
    copy_path: bool = field(default=True, metadata={"help": "rank rows also copy attended token vectors into A and B"})
    copy_next: bool = field(default=False, metadata={
        "help": "copy heads also key A on the token before the attended one and write its embedding into B"})
    chunk_len: int = field(default=512, metadata={"help": "tokens per chunk; longer documents are sliced"})
    chunk_combine: str = field(default="sqrt", metadata={"help": f"scaling of chunk LoRAs when concatenated: {CHUNK_COMBINE_RULES}"})
    window_len: int = field(default=128, metadata={
        "help": "tokens per LoRA inside a chunk: the chunk is read in one pass and each window of at most this "
                "many tokens gets its own rank-`rank` LoRA, side by side (0: one LoRA per chunk)"})
    window_combine: str = field(default="sum", metadata={
        "help": f"scaling of a chunk's window LoRAs, by its number of windows: {CHUNK_COMBINE_RULES} (sum: each "
                "window holds different facts; sqrt helps documents about many entities, costs single-topic prose)"})
    max_chunks: int = field(default=15, metadata={
        "help": "cap on chunks per document (rank cap = max_chunks * windows_per_chunk * rank + bias_rank)"})

    def __post_init__(self) -> None:
        self.targets = [t if isinstance(t, TargetModule) else TargetModule(**t) for t in self.targets]
        if not self.targets:
            raise ValueError("HypernetConfig.targets must name at least one module")
        if self.rank <= 0 or self.bias_rank < 0:
            raise ValueError(f"HypernetConfig rank={self.rank} must be > 0 and bias_rank={self.bias_rank} >= 0")
        if self.latent_dim % self.n_heads:
            raise ValueError(f"HypernetConfig.latent_dim={self.latent_dim} must be divisible by n_heads={self.n_heads}")
        for name in ("chunk_combine", "window_combine"):
            if getattr(self, name) not in CHUNK_COMBINE_RULES:
                raise ValueError(f"HypernetConfig.{name}={getattr(self, name)!r} not in {CHUNK_COMBINE_RULES}")
        if self.copy_next and not self.copy_path:
            raise ValueError("HypernetConfig.copy_next needs copy_path")
        if self.chunk_len < 16 or self.max_chunks < 1 or self.window_len < 0:
            raise ValueError(f"HypernetConfig chunk_len={self.chunk_len} must be >= 16, max_chunks={self.max_chunks} >= 1 "
                             f"and window_len={self.window_len} >= 0")
        if self.max_rank > SERVING_RANKS[-1]:
            raise ValueError(f"HypernetConfig: an adapter may reach rank {self.max_rank} (max_chunks {self.max_chunks} x "
                             f"{self.windows_per_chunk} windows x rank {self.rank} + bias {self.bias_rank}), more than the "
                             f"largest serving rank {SERVING_RANKS[-1]}; lower max_chunks or raise window_len")

    @property
    def windows_per_chunk(self) -> int:
        """The most LoRAs one chunk emits."""
        return math.ceil(self.chunk_len / self.window_len) if self.window_len else 1

    @property
    def max_rank(self) -> int:
        """The rank of the largest adapter this configuration emits."""
        return self.max_chunks * self.windows_per_chunk * self.rank + self.bias_rank

    @classmethod
    def for_base_model(cls, base_config: Any, **overrides: Any) -> "HypernetConfig":
        """Derive layer count and target sizes from a transformers model config."""
        text_cfg = getattr(base_config, "text_config", None) or base_config
        hidden = text_cfg.hidden_size
        inter = text_cfg.intermediate_size
        targets = overrides.pop("targets", None) or [TargetModule("mlp.down_proj", inter, hidden)]
        base_model_id = overrides.pop("base_model_id", None) or getattr(base_config, "_name_or_path", "") or "unknown"
        return cls(
            base_model_id=base_model_id,
            n_layers=text_cfg.num_hidden_layers,
            hidden_size=hidden,
            targets=targets,
            **overrides,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HypernetConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"HypernetConfig: unknown fields {sorted(unknown)}")
        return cls(**data)
