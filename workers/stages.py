"""The steps of the adapter pipeline, one class per step, each usable without Ray.

    rows (doc_id, sha256, text)
      -> ChunkStage    CPU: tokenise and cut into equal token slices
      -> AdapterStage  model actor: base-model activations -> hypernetwork -> refinement -> PEFT files

Each stage maps a batch (dict of column name -> numpy array) to a batch. A document that cannot
be processed gets a message in the `error` column instead of failing the batch, so one bad
document never costs the others their adapters.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time

import numpy as np

from workers.config import WorkerConfig

log = logging.getLogger(__name__)

# -- column names -------------------------------------------------------------------------------
DOC_ID = "doc_id"
SHA256 = "sha256"
TEXT = "text"
N_TOKENS = "n_tokens"
TOKEN_IDS = "token_ids"  # all tokens of a document, flat (int32)
CHUNK_LENS = "chunk_lens"  # lengths of its chunks, summing to n_tokens (int32)
ERROR = "error"  # "" when the document is fine so far
OK = "ok"
N_CHUNKS = "n_chunks"
RANK = "rank"
SECONDS = "seconds"
# PEFT adapter files travel as one binary column each (see FILE_COLUMNS).
ADAPTER_CONFIG = "adapter_config"
ADAPTER_WEIGHTS = "adapter_weights"

INPUT_COLUMNS = (DOC_ID, SHA256, TEXT)


def file_columns() -> dict[str, str]:
    """PEFT file name -> column that carries it."""
    from hypernet.peft_format import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE

    return {ADAPTER_CONFIG_FILE: ADAPTER_CONFIG, ADAPTER_WEIGHTS_FILE: ADAPTER_WEIGHTS}


MAX_ERROR_CHARS = 2000  # Ray's errors carry whole remote tracebacks; a result keeps the head


def error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " ..."


def hypernet_folder(cfg: WorkerConfig) -> str:
    from hypernet.config import default_checkpoint

    return cfg.hypernet_path or default_checkpoint()


def read_hypernet_config(folder: str):
    """The hypernetwork's config alone (chunking needs it; the weights are not loaded)."""
    from hypernet.config import HypernetConfig, checkpoint_meta

    return HypernetConfig.from_dict(checkpoint_meta(folder)["config"])


def _objects(values: list) -> np.ndarray:
    """A 1-D object array (np.array would try to stack equal-length arrays into 2-D)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# -- step 1: tokenise and chunk (CPU) -------------------------------------------------------------
class ChunkStage:
    """Text -> token ids and chunk lengths, cut by the same `Chunker` as `AdapterGenerator.chunk`.

    It reads the model folder's tokenizer.json with the `tokenizers` library (the engine behind
    transformers' fast tokenizers): importing transformers pulls in torch, several seconds of CPU
    that every pipeline run would pay again in this actor. Folders without one fall back to
    AutoTokenizer.
    """

    def __init__(self, cfg: WorkerConfig):
        quiet_actor_process()
        start_report(cfg)
        from hypernet.base_model import resolve, token_encoder
        from hypernet.chunking import Chunker

        hcfg = read_hypernet_config(hypernet_folder(cfg))
        self.chunker = Chunker.of(hcfg)
        self._encode = token_encoder(resolve(cfg.base_model, cfg.cache_dir or None).path)
        if cfg.actor_report_dir:
            report_actor(cfg.actor_report_dir, "chunk", "cpu")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = list(batch[TEXT])
        ids_per_doc, errors = self._tokenize(texts)
        token_ids, chunk_lens, n_tokens = [], [], []
        for i, ids in enumerate(ids_per_doc):
            lengths: list[int] = []
            if not errors[i]:
                try:
                    lengths = self.chunker.lengths(ids)
                except ValueError as exc:  # a document without tokens
                    errors[i] = error_text(exc)
            token_ids.append(np.asarray(ids, dtype=np.int32))
            chunk_lens.append(np.asarray(lengths, dtype=np.int32))
            n_tokens.append(len(ids))
        return {
            DOC_ID: batch[DOC_ID],
            SHA256: batch[SHA256],
            TEXT: batch[TEXT],  # refinement makes its questions from the text
            N_TOKENS: np.asarray(n_tokens, dtype=np.int64),
            TOKEN_IDS: _objects(token_ids),
            CHUNK_LENS: _objects(chunk_lens),
            ERROR: np.asarray(errors, dtype=object),
        }

    def _tokenize(self, texts: list) -> tuple[list[list[int]], list[str]]:
        """One batched tokenizer call; per-document calls only to find what broke it."""
        try:
            return self._encode(texts), [""] * len(texts)
        except Exception:  # noqa: BLE001 - a bad value (None, bytes) in one row
            ids, errors = [], []
            for text in texts:
                try:
                    if not isinstance(text, str):
                        raise TypeError(f"document text is {type(text).__name__}, not str")
                    ids.append(self._encode([text])[0])
                    errors.append("")
                except Exception as exc:  # noqa: BLE001
                    ids.append([])
                    errors.append(error_text(exc))
            return ids, errors


# -- step 2: activations -> hypernetwork -> PEFT files (model actor) -----------------------------
class AdapterStage:
    """Holds the frozen base model and the hypernetwork (loaded once per actor)."""

    def __init__(self, cfg: WorkerConfig):
        import torch

        from hypernet import base_model
        from hypernet.generate import AdapterGenerator
        from hypernet.model import HyperNetwork

        quiet_actor_process()
        start_report(cfg)
        torch.set_num_threads(torch_threads(cfg))
        self.device = actor_device(cfg)
        # Chunks arrive as token ids: BOS and padding are all this actor needs of the tokenizer.
        model, ref = base_model.load_model(cfg.base_model, cfg.cache_dir or None, device=self.device, dtype=cfg.dtype)
        net = HyperNetwork.load(hypernet_folder(cfg))
        check_compatible(model.config, net.cfg)
        self.generator = AdapterGenerator(model, base_model.batch_tokens(ref.path), net,
                                          max_batch_tokens=cfg.max_batch_tokens, read_dtype=cfg.read_dtype)
        self.refine = cfg.refine
        # Refinement tokenises the questions it makes up, so it needs the whole tokenizer.
        self.tokenizer = base_model.load_tokenizer(ref.path) if self.refine.steps else None
        self.base_model_id = ref.model_id
        self.files = file_columns()
        if cfg.actor_report_dir:
            report_actor(cfg.actor_report_dir, "adapter", self.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        from hypernet.lora import serving_rank
        from hypernet.peft_format import to_peft_files

        n = len(batch[DOC_ID])
        errors = [str(e) for e in batch[ERROR]]
        todo = [i for i in range(n) if not errors[i]]
        docs_chunks = [split_chunks(batch[TOKEN_IDS][i], batch[CHUNK_LENS][i]) for i in todo]
        start = time.perf_counter()
        with torch.inference_mode():
            loras = self._loras(docs_chunks)
        if self.refine.steps:
            loras = self._refined([batch[TEXT][i] for i in todo], loras)
        files: list[dict[str, bytes] | None] = [None] * n
        ranks = [0] * n
        for i, lora in zip(todo, loras):
            try:
                if isinstance(lora, BaseException):
                    raise lora
                files[i] = to_peft_files(lora, self.base_model_id)
                ranks[i] = serving_rank(lora.rank)
            except Exception as exc:  # noqa: BLE001 - e.g. a NaN adapter: this document only
                errors[i] = error_text(exc)
        seconds = _share_time(time.perf_counter() - start, batch[N_TOKENS], todo, n)
        ok = [files[i] is not None for i in range(n)]
        out = {
            DOC_ID: batch[DOC_ID],
            SHA256: batch[SHA256],
            OK: np.asarray(ok, dtype=bool),
            N_TOKENS: np.asarray(batch[N_TOKENS], dtype=np.int64),
            N_CHUNKS: np.asarray([len(c) for c in batch[CHUNK_LENS]], dtype=np.int64),
            RANK: np.asarray(ranks, dtype=np.int64),
            ERROR: np.asarray(errors, dtype=object),
            SECONDS: np.asarray(seconds, dtype=np.float64),
        }
        for name, column in self.files.items():
            out[column] = _objects([f[name] if f is not None else b"" for f in files])
        return out

    def _refined(self, texts: list[str], loras: list) -> list:
        """The generated adapters refined together; if that raises, one document at a time to isolate it."""
        from hypernet.refine import refine_texts

        ok = [i for i, lora in enumerate(loras) if not isinstance(lora, BaseException)]
        model, autocast = self.generator.model, self.generator.read_autocast
        bias_rank = self.generator.cfg.bias_rank
        out = list(loras)
        try:
            refined = refine_texts(model, self.tokenizer, [texts[i] for i in ok], [loras[i] for i in ok],
                                   self.refine, bias_rank=bias_rank, autocast=autocast)
            for i, lora in zip(ok, refined):
                out[i] = lora
        except Exception as batch_error:  # noqa: BLE001 - retried per document below, where the error is recorded
            # One document at a time costs more per document: say so, so a slow run has a reason in the log.
            log.warning("refining a batch of %d documents failed (%s); refining them one at a time",
                        len(ok), error_text(batch_error))
            for i in ok:
                try:
                    out[i] = refine_texts(model, self.tokenizer, [texts[i]], [loras[i]], self.refine,
                                          bias_rank=bias_rank, autocast=autocast)[0]
                except Exception as exc:  # noqa: BLE001 - never publish the unrefined adapter under this key
                    out[i] = exc
        return out

    def _loras(self, docs_chunks: list[list[list[int]]]) -> list:
        """All documents in one packed run; if that raises, one document at a time to isolate it."""
        if not docs_chunks:
            return []
        try:
            return self.generator.generate_from_chunks(docs_chunks)
        except Exception as batch_error:  # noqa: BLE001 - retried per document below, where the error is recorded
            log.warning("generating a batch of %d documents failed (%s); generating them one at a time",
                        len(docs_chunks), error_text(batch_error))
            out: list = []
            for chunks in docs_chunks:
                try:
                    out.append(self.generator.generate_from_chunks([chunks])[0])
                except Exception as exc:  # noqa: BLE001
                    out.append(exc)
            return out


def actor_device(cfg: WorkerConfig) -> str:
    """'cuda' when the actor was given a GPU and CUDA works in this process, else 'cpu'.

    Ray gives a GPU actor its GPU by CUDA_VISIBLE_DEVICES, so 'cuda' is that GPU. A node may declare
    GPUs that torch cannot use (a CPU test cluster started with `ray start --num-gpus 1`, a broken
    driver): the actor then runs on the CPU, says so in the log, and its report shows the device.
    """
    if cfg.device != "cuda":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    log.warning("this actor was given GPU(s) %s (CUDA_VISIBLE_DEVICES=%r) but torch sees no CUDA device; "
                "running on the CPU", gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES"))
    return "cpu"


def gpu_ids() -> list:
    """The GPU ids Ray assigned to this actor ([] outside Ray or without GPUs)."""
    import ray

    return list(ray.get_gpu_ids()) if ray.is_initialized() else []


def torch_threads(cfg: WorkerConfig) -> int:
    """Split the node's cores between the actors unless told; Ray's OMP_NUM_THREADS=1 would idle them."""
    return cfg.torch_threads or max(1, (os.cpu_count() or 1) // cfg.num_actors)


def check_compatible(base_config, hcfg) -> None:
    """Fail at load, with both numbers, rather than deep inside the first forward."""
    text = getattr(base_config, "text_config", None) or base_config
    if (text.num_hidden_layers, text.hidden_size) != (hcfg.n_layers, hcfg.hidden_size):
        raise ValueError(
            f"hypernetwork is for {hcfg.n_layers} layers x hidden {hcfg.hidden_size} ({hcfg.base_model_id}), "
            f"base model has {text.num_hidden_layers} x {text.hidden_size}"
        )


def split_chunks(token_ids: np.ndarray, chunk_lens: np.ndarray) -> list[list[int]]:
    """A document's chunks from the two columns ChunkStage wrote."""
    from hypernet.chunking import split_by_lengths

    return split_by_lengths(np.asarray(token_ids).tolist(), np.asarray(chunk_lens).tolist())


def _share_time(elapsed: float, n_tokens: np.ndarray, todo: list[int], n: int) -> list[float]:
    """A batch is one packed computation: each document is charged its share of the tokens."""
    out = [0.0] * n
    total = sum(int(n_tokens[i]) for i in todo)
    for i in todo:
        out[i] = elapsed * int(n_tokens[i]) / total if total else 0.0
    return out


def quiet_actor_process() -> None:
    """Inside a Ray actor: no per-actor model-loading progress bars on the driver's console, no
    tokenizers thread pool fighting the other processes, and freed memory kept for the next step
    (workers.heap). (Set here rather than through a runtime_env on the stage: a stage-level
    runtime_env makes Ray start a fresh set of workers.)
    """
    import ray

    from workers.heap import reuse_freed_memory

    if not (ray.is_initialized() and ray.get_runtime_context().get_actor_id()):
        return  # in the caller's own process: leave its settings alone
    reuse_freed_memory()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    disable_progress_bars()
    hf_logging.disable_progress_bar()


def start_report(cfg: WorkerConfig) -> None:
    if cfg.actor_report_dir:
        os.makedirs(cfg.actor_report_dir, exist_ok=True)  # a bad folder fails before the slow loads


def report_actor(folder: str, stage: str, device: str) -> None:
    """Write <pid>.json: where this actor runs (host, Ray node, GPUs) and what its start cost."""
    import psutil  # a Ray dependency
    import ray

    in_ray = ray.is_initialized()
    info = {"pid": os.getpid(), "stage": stage, "host": socket.gethostname(), "device": device,
            "process_started_at": psutil.Process().create_time(), "ready_at": time.time(),
            "cpu_seconds_at_ready": time.process_time(),  # start-up cost (imports, model load), for benchmarks
            "node_id": ray.get_runtime_context().get_node_id() if in_ray else None,
            "gpu_ids": [str(g) for g in gpu_ids()],  # what Ray assigned; CUDA_VISIBLE_DEVICES should list the same
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    tmp = os.path.join(folder, f".{os.getpid()}.json.tmp")
    with open(tmp, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, os.path.join(folder, f"{os.getpid()}.json"))  # readers never see half a file
