"""Document -> adapter in one forward pass, and answering questions with or without it.

`AdapterGenerator` is the in-process path every caller shares (CLI, Ray actors, evaluation):
tokenise -> chunk -> base-model activations -> hypernetwork -> combine chunk LoRAs.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import StoppingCriteria

from hypernet.activations import layer_inputs, read_autocast
from hypernet.chunking import Chunker
from hypernet.lora import LoraTensors, applied, combine_chunks
from hypernet.model import HyperNetwork, unbatch
from hypernet.prompts import clean_answer, context_prompt, question_prompt


@dataclass
class GeneratedAdapter:
    lora: LoraTensors
    n_tokens: int
    n_chunks: int


class AdapterGenerator:
    """Holds the frozen base model and the hypernetwork; turns token chunks into adapters.

    `tokenizer` is the model's tokenizer, or, for callers that only pass token ids (chunk_loras,
    generate_from_chunks), anything with `bos_token_id` and `pad_token_id` (base_model.BatchTokens).
    """

    def __init__(self, model, tokenizer, hypernet: HyperNetwork, *, max_batch_tokens: int = 4096,
                 read_dtype: str = "auto"):
        self.model = model
        self.read_autocast = read_autocast(model, read_dtype)
        self.tokenizer = tokenizer
        self.hypernet = hypernet.eval().requires_grad_(False)
        self.cfg = hypernet.cfg
        self.chunker = Chunker.of(self.cfg)
        self.max_batch_tokens = max_batch_tokens
        self.device = next(model.parameters()).device
        self.hypernet.to(self.device)
        # The hypernetwork is frozen here, so its bias LoRA is a constant: one copy to the CPU, not one per document.
        bias = self.hypernet.bias_lora()
        self.bias = bias.to("cpu", torch.float32) if bias is not None else None
        # A routed checkpoint (hypernet.routing): documents unlike its corpus get its fallback's adapters.
        self.router = hypernet.router
        self.fallback = None if self.router is None else AdapterGenerator(
            model, tokenizer, self.router.fallback, max_batch_tokens=max_batch_tokens, read_dtype=read_dtype)
        self.routed = {"corpus": 0, "fallback": 0}  # documents each hypernetwork read, for reports

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def chunk(self, token_ids: list[int]) -> list[list[int]]:
        """The document's chunks, as the Ray ChunkStage cuts them (ValueError when it has no tokens)."""
        return self.chunker.split(token_ids)

    @torch.inference_mode()
    def chunk_loras(self, chunks: list[list[int]]) -> list[LoraTensors]:
        """One LoRA per chunk; chunks of any documents, batched by length to fill the model."""
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]))
        out: list[LoraTensors | None] = [None] * len(chunks)
        batch: list[int] = []
        for i in order:
            longest = len(chunks[i]) + 1
            if batch and longest * (len(batch) + 1) > self.max_batch_tokens:
                self._run(batch, chunks, out)
                batch = []
            batch.append(i)
        if batch:
            self._run(batch, chunks, out)
        return out  # type: ignore[return-value]

    def _run(self, idx: list[int], chunks: list[list[int]], out: list) -> None:
        ids, mask, hyper_mask = encode_batch([chunks[i] for i in idx], self.tokenizer, self.device)
        acts = layer_inputs(self.model, ids, mask, self.read_autocast)  # (N, L, T, H)
        # One device-to-host copy per factor for the whole batch: per-chunk copies each wait on the GPU.
        batched, ranks = self.hypernet.forward_batched(acts, hyper_mask)
        loras = unbatch(batched.to("cpu", torch.float32), ranks)
        for j, i in enumerate(idx):
            out[i] = loras[j]

    def combine(self, per_chunk: list[LoraTensors]) -> LoraTensors:
        return combine_chunks(per_chunk, self.bias, self.cfg.chunk_combine)

    def generate_from_chunks(self, docs_chunks: list[list[list[int]]]) -> list[LoraTensors]:
        """Several documents (each a list of token chunks) -> one combined adapter each."""
        if self.router is None:
            return self._generate_from_chunks(docs_chunks)
        to_corpus = self.router.to_corpus([[t for c in chunks for t in c] for chunks in docs_chunks])
        self.routed["corpus"] += sum(to_corpus)
        self.routed["fallback"] += len(to_corpus) - sum(to_corpus)
        own = iter(self._generate_from_chunks([d for d, mine in zip(docs_chunks, to_corpus) if mine]))
        other = iter(self.fallback.generate_from_chunks([d for d, mine in zip(docs_chunks, to_corpus) if not mine]))
        return [next(own) if mine else next(other) for mine in to_corpus]

    def _generate_from_chunks(self, docs_chunks: list[list[list[int]]]) -> list[LoraTensors]:
        if not docs_chunks:
            return []
        flat = [c for chunks in docs_chunks for c in chunks]
        loras = self.chunk_loras(flat)
        result, k = [], 0
        for chunks in docs_chunks:
            result.append(self.combine(loras[k:k + len(chunks)]))
            k += len(chunks)
        return result

    def generate(self, texts: list[str]) -> list[GeneratedAdapter]:
        docs = []
        for text in texts:
            ids = self.tokenize(text)
            docs.append((len(ids), self.chunk(ids)))
        loras = self.generate_from_chunks([c for _, c in docs])
        return [GeneratedAdapter(l, n, len(c)) for l, (n, c) in zip(loras, docs)]


def encode_batch(chunks: list[list[int]], tokenizer, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids with BOS prepended; the hypernet mask hides BOS (an attention sink) and padding."""
    bos = tokenizer.bos_token_id
    prefix = [bos] if bos is not None else []
    width = max(len(c) for c in chunks) + len(prefix)
    pad = tokenizer.pad_token_id or 0
    ids = torch.full((len(chunks), width), pad, dtype=torch.long)
    mask = torch.zeros((len(chunks), width), dtype=torch.long)
    for j, c in enumerate(chunks):
        row = prefix + list(c)
        ids[j, : len(row)] = torch.tensor(row)
        mask[j, : len(row)] = 1
    hyper_mask = mask.clone()
    hyper_mask[:, : len(prefix)] = 0
    return ids.to(device), mask.to(device), hyper_mask.to(device)


class FirstLineDone(StoppingCriteria):
    """Stops greedy decoding once the answer's first line is complete: `clean_answer` keeps only it."""

    def __init__(self, tokenizer, prompt_len: int):
        self.tokenizer, self.prompt_len = tokenizer, prompt_len

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        done = ["\n" in self.tokenizer.decode(row[self.prompt_len:], skip_special_tokens=True).strip()
                for row in input_ids]
        return torch.tensor(done, device=input_ids.device)


@torch.inference_mode()
def answer(model, tokenizer, question: str, *, lora: LoraTensors | None = None, document: str | None = None,
           max_new_tokens: int = 16) -> str:
    """Greedy short answer: base (nothing), adapter (`lora`), or context (`document` in the prompt)."""
    prompt = context_prompt(document, question) if document is not None else question_prompt(question)
    enc = tokenizer(prompt, return_tensors="pt").to(next(model.parameters()).device)
    kwargs = dict(max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                  stopping_criteria=[FirstLineDone(tokenizer, enc.input_ids.shape[1])])
    if lora is None:
        out = model.generate(**enc, **kwargs)
    else:
        with applied(model, lora.to(next(model.parameters()).device)):
            out = model.generate(**enc, **kwargs)
    return clean_answer(tokenizer.decode(out[0, enc.input_ids.shape[1]:], skip_special_tokens=True))


@torch.inference_mode()
def answer_nll(model, tokenizer, question: str, gold: str, *, lora: LoraTensors | None = None,
               document: str | None = None) -> float:
    """Mean negative log-likelihood per token of the gold answer after the prompt (nats, lower is better).

    A graded measure beside exact match: it shows an adapter moving toward the context ceiling
    before its greedy answers come out right.
    """
    prompt = context_prompt(document, question) if document is not None else question_prompt(question)
    device = next(model.parameters()).device
    prompt_ids = tokenizer(prompt).input_ids
    gold_ids = tokenizer(" " + gold.strip(), add_special_tokens=False).input_ids
    ids = torch.tensor([prompt_ids + gold_ids], device=device)
    if lora is None:
        logits = model(input_ids=ids).logits
    else:
        with applied(model, lora.to(device)):
            logits = model(input_ids=ids).logits
    predicting = logits[0, len(prompt_ids) - 1 : -1].float()  # the positions that predict the gold tokens
    return torch.nn.functional.cross_entropy(predicting, ids[0, len(prompt_ids):]).item()
