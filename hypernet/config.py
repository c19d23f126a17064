"""Configuration dataclasses for the hypernetwork, the adapters it emits and its meta-training.

Only dataclasses live here (no torch, so the command line and the workers' configs import them
cheaply): the model code reads them, checkpoints save them as JSON beside the weights, so a
checkpoint rebuilds its model alone.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from hypernet.base_model import PACKAGED

# vLLM / LoRAX accept only these ranks; exported adapters are zero-padded up to one of them.
SERVING_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)

CHUNK_COMBINE_RULES = ("sum", "mean", "sqrt")

# The frozen base model's dtype ('auto': bfloat16 on a GPU, float32 on the CPU; see base_model.load).
DTYPES = ("auto", "float32", "bfloat16", "float16")
# The precision of the document-reading pass (see activations.read_autocast).
READ_DTYPES = ("auto", "model", "bfloat16")

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
    """The checkpoint that ships inside the package (how it was trained: its TRAINING.md)."""
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
    first_target_layer: int = field(default=0, metadata={
        "help": "decoder layers below this one get no adapter (zero factors): the hypernetwork reads and writes only "
                "the layers from here up, and a student's backward pass stops here (0: every layer)"})
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
        if not 0 <= self.first_target_layer < self.n_layers:
            raise ValueError(f"HypernetConfig.first_target_layer={self.first_target_layer} must be in [0, "
                             f"n_layers={self.n_layers})")
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


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise a ValueError naming the field when `value` is not one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}, got {value!r}")


def single_process(default: Any, help: str) -> Any:
    """A TrainConfig field of the single-process run only: the distributed job takes it from its own
    settings (models, resources, batch), and refuses a value other than the default."""
    return field(default=default, metadata={"help": help, "single_process": True})


TASK_TARGETS = ("reference", "teacher")
GENERATED_DATA = ("synthetic", "tasks")  # TrainConfig.data drawn from a seed; anything else is a JSONL file


@dataclass
class TrainConfig:
    """Knobs of one meta-training run, in one block of defaults: the single-process trainer
    (hypernet.train) and the distributed job (workers.meta_train) both train with these."""

    out_dir: str = single_process("runs/meta", "checkpoints and metrics go here; re-running resumes")
    base_model: str = single_process(PACKAGED, "base model spec")
    data: str = field(default="synthetic", metadata={
        "help": "'synthetic' (generated documents), 'tasks' (Text-to-LoRA: generated task descriptions, "
                "hypernet.tasks) or an eval-format JSONL file"})
    steps: int = field(default=3000, metadata={"help": "optimizer steps"})
    batch_docs: int = single_process(1, "documents per optimizer step (one teacher and one student batch)")
    device: str = single_process("auto", "'auto' (the GPU when there is one), 'cpu', 'cuda' or 'cuda:N'")
    dtype: str = single_process("auto", f"the frozen base model's dtype, one of {', '.join(DTYPES)} "
                                        "('auto': bfloat16 on a GPU, float32 on the CPU)")
    torch_threads: int = single_process(0, "torch threads (0: all cores)")
    init_from: str = field(default="", metadata={
        "help": "hypernetwork checkpoint folder to start from (weights and config only) when the run has no "
                "checkpoint yet (empty: a fresh, seeded initialisation)"})
    lr: float = field(default=5e-4, metadata={"help": "peak AdamW learning rate"})
    warmup: int = field(default=50, metadata={"help": "linear warm-up steps"})
    min_lr_ratio: float = field(default=0.1, metadata={"help": "cosine decays to lr * this"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    grad_clip: float = field(default=1.0, metadata={"help": "gradient norm clip"})
    start_decay: float = field(default=0.0, metadata={
        "help": "pull of every weight back toward the starting checkpoint's (init_from, required), decoupled like "
                "AdamW's weight decay: each step moves a weight lr * start_decay of its distance back, so a run "
                "on one corpus keeps near the generic skill it started from (0: off)"})
    ce_weight: float = field(default=0.5, metadata={"help": "weight of CE on gold answers beside the teacher KL"})
    l1_weight: float = field(default=1e-4, metadata={"help": "L1 penalty on generated A and B"})
    retrieval_weight: float = field(default=0.0, metadata={
        "help": "weight of the retrieval loss: copy heads are taught where answers sit in the document and "
                "which question state reads them (hypernet.distill.retrieval_loss; 0: off)"})
    top_k: int = field(default=16, metadata={"help": "teacher top-k kept per answer token"})
    questions_per_doc: int = field(default=4, metadata={"help": "questions per training document"})
    multi_chunk_prob: float = field(default=0.15, metadata={"help": "share of steps on 2-3 chunk documents"})
    two_section_prob: float = field(default=0.25, metadata={"help": "share of steps on one-chunk documents about two entities"})
    save_every: int = field(default=50, metadata={"help": "steps between checkpoints (the last step always checkpoints)"})
    log_every: int = field(default=10, metadata={"help": "steps between progress lines (0: none)"})
    max_seconds: float = field(default=0.0, metadata={
        "help": "stop (with a checkpoint) after this many seconds of training, the cosine schedule then ending at "
                "whichever comes first, steps or time: in one process for the single-process trainer, over the "
                "run's kept steps (restores included) for the Ray Train job (0: no time limit)"})
    seed: int = field(default=0, metadata={"help": "data and initialisation seed"})
    latent_dim: int = field(default=128, metadata={"help": "hypernetwork width"})
    n_latents: int = field(default=16, metadata={"help": "Perceiver latents"})
    head_dim: int = field(default=64, metadata={"help": "per-layer head input width"})
    rank: int = field(default=8, metadata={"help": "LoRA rank per chunk"})
    copy_path: int = field(default=1, metadata={"help": "1: rank rows copy attended token vectors (see CopyHead)"})
    first_target_layer: int = field(default=0, metadata={
        "help": "adapt only the decoder layers from this one up (hypernet.config.HypernetConfig; also applied to an "
                "--init-from checkpoint): the student's lower layers then need no backward and the hypernetwork "
                "reads fewer layers (0: every layer)"})
    copy_next: int = field(default=0, metadata={
        "help": "1: copy heads also write 'after this context comes this token' (see CopyHead); with init_from, "
                "adds that path (zero at first) to a checkpoint that lacks it"})
    vocab_names: float = field(default=0.5, metadata={
        "help": "share of invented names taken from the base model's vocabulary (real words) instead of syllables"})
    # Real prose is what the adapters are judged on, and a share of it in training moved held-out
    # real prose where synthetic documents alone did not (docs/benchmarks.md); trained on the gold
    # answers because the 270M teacher, even with the passage in its prompt, misses most blanks.
    package_text_prob: float = field(default=0.5, metadata={
        "help": "share of training documents that are real prose from the installed packages' descriptions "
                "(hypernet.package_text), asked fill-in-the-blank questions made from their own sentences and "
                "trained on the gold answers alone (the teacher answers few of them)"})
    task_targets: str = field(default="reference", metadata={
        "help": "with data 'tasks': 'teacher' (context distillation on the outputs of the base model with the "
                "description in its prompt that the task's checker accepts) or 'reference' (the base model's own "
                "reply rewritten in the task's form by its family's rule, as gold; for a base model that does not "
                "follow descriptions; draws only families that have a rule)"})
    distill_share: float = field(default=0.25, metadata={
        "help": "when the run has dense targets (corpus training): the share of steps on the distillation loss; "
                "the others match the reference adapters' effect (hypernet.dense), with no base-model pass "
                "(0: dense only, 1: distillation only)"})
    generic_replay: float = field(default=0.0, metadata={
        "help": "when the run trains on a corpus: the share of its distillation documents that are generic synthetic "
                "documents (as generic meta-training draws them, with their gold questions), so that learning the "
                "corpus does not forget the generic skill (0: the corpus's documents alone)"})
    dense_batch: int = field(default=16, metadata={
        "help": "documents per dense step (over all workers of the distributed job)"})
    dense_positions: int = field(default=128, metadata={
        "help": "rows per layer kept of a document's target-module inputs for the dense targets: the top "
                "singular directions of its positions, which keep the loss (see hypernet.dense.sketch; 0: every "
                "position)"})
    paraphrase_questions: float = field(default=0.5, metadata={
        "help": "share of training questions asked in other words (generic forms, frames; see "
                "hypernet.synthetic.paraphrased_question); above 0 also draws the train-only kinds: attribute "
                "records, job adverts, travel bookings, court cases, trial summaries, tenancies"})

    def __post_init__(self) -> None:
        if self.steps <= 0 or self.save_every <= 0 or self.batch_docs <= 0:
            raise ValueError(f"TrainConfig steps={self.steps}, save_every={self.save_every} and "
                             f"batch_docs={self.batch_docs} must be positive")
        if self.log_every < 0 or self.torch_threads < 0 or self.max_seconds < 0:
            raise ValueError(f"TrainConfig log_every={self.log_every}, torch_threads={self.torch_threads} and "
                             f"max_seconds={self.max_seconds} must not be negative")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ValueError(f"TrainConfig.device={self.device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")
        check_choice("TrainConfig.dtype", self.dtype, DTYPES)
        check_choice("TrainConfig.task_targets", self.task_targets, TASK_TARGETS)
        if self.first_target_layer < 0 or self.first_target_layer and self.retrieval_weight:
            raise ValueError(f"TrainConfig.first_target_layer={self.first_target_layer} must be >= 0, and 0 with "
                             f"retrieval_weight={self.retrieval_weight} (the retrieval loss reads every layer)")
        if self.start_decay < 0:
            raise ValueError(f"TrainConfig.start_decay={self.start_decay} must not be negative")
        if not 0 <= self.generic_replay < 1:
            raise ValueError(f"TrainConfig.generic_replay={self.generic_replay} must be in [0, 1)")
        if self.dense_batch < 1 or self.dense_positions < 0:
            raise ValueError(f"TrainConfig dense_batch={self.dense_batch} must be >= 1 and "
                             f"dense_positions={self.dense_positions} >= 0")
        for name in ("multi_chunk_prob", "two_section_prob", "vocab_names", "paraphrase_questions", "package_text_prob",
                     "distill_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)} must be in [0, 1]")

    def single_process_changes(self) -> list[str]:
        """The single-process fields set to something other than their default, by name."""
        return [f.name for f in dataclasses.fields(self)
                if f.metadata.get("single_process") and getattr(self, f.name) != f.default]


TRAINED_FACTORS = ("all", "B", "no-bias")
LENGTH_SCALES = ("rows", "steps")
MISSED_QUESTIONS = ("drop", "gold")


@dataclass(frozen=True)
class RefineConfig:
    """The per-document refinement recipe (hypernet.refine). All its fields are part of an adapter's version key."""

    # On training-split documents, synthetic and real, ten steps answer as many as twelve at 15 % less time
    # per document (docs/benchmarks.md, refinement recipes).
    steps: int = field(default=10, metadata={"help": "optimizer steps per document (0: the generated adapter as is)"})
    lr: float = field(default=2e-3, metadata={"help": "AdamW learning rate on the adapter's factors"})
    # Adam's first steps move every entry by about the learning rate whatever its gradient, so a step's
    # effect on the output grows with the adapter's rank (long documents' adapters hold a rank block per
    # chunk and window): their lr is scaled down by rank, and every lr rises over the first steps.
    lr_rank: int = field(default=16, metadata={
        "help": "an adapter of a higher rank than this refines at lr * lr_rank / its rank (0: every rank at lr)"})
    warmup: int = field(default=2, metadata={
        "help": "the learning rate rises linearly over the first steps: step i (from 0) runs at lr * (i+1) / (warmup+1)"})
    # Over a dozen steps Adam's default averages (0.9, 0.999) remember gradients of factors that have moved
    # on; shorter memories answered more at every step count on training-split documents (docs/benchmarks.md).
    adam_beta1: float = field(default=0.6, metadata={"help": "AdamW's decay of its running mean of the gradient"})
    adam_beta2: float = field(default=0.99, metadata={"help": "AdamW's decay of its running mean of the squared gradient"})
    questions: int = field(default=12, metadata={"help": "natural questions made up per document"})
    blanks: int = field(default=8, metadata={"help": "fill-in-the-blank items per document"})
    # The natural questions' answers are the document's own spans; a small teacher misses many of them on
    # real records, and trained on their span they answered more on both kinds of text (docs/benchmarks.md).
    missed_questions: str = field(default="gold", metadata={
        "help": f"a natural question whose in-context teacher answer is not its span: {MISSED_QUESTIONS} "
                "(drop: left out; gold: trained on its span, as a blank is)"})
    # A long document's budget grows with its units, yet its facts outnumber it and were otherwise all asked
    # from its first part; spread over its length, long documents answered more. Within one unit the first
    # facts answered more than a spread (docs/benchmarks.md), so documents of one unit are untouched.
    spread_items: bool = field(default=True, metadata={
        "help": "a document longer than one unit that offers more questions or blanks than its budget is asked "
                "about evenly over its length (else from its start)"})
    items_per_step: int = field(default=8, metadata={"help": "question rows per document in one step, taken in turn"})
    text_tokens: int = field(default=128, metadata={"help": "document tokens read by the next-token term per step (a window, in turn)"})
    unit_tokens: int = field(default=512, metadata={
        "help": "document tokens per unit of the budgets: questions and blanks, and the steps or the rows per step "
                "(`length_scales`), are each multiplied by the document's length in units (rounded up)"})
    # Past one unit, more steps of one unit's rows answer more than as many rows in fewer steps, at the same
    # cost (docs/benchmarks.md, refinement recipes): Adam's progress is counted in steps.
    length_scales: str = field(default="steps", metadata={
        "help": f"what else grows with a document's length in units, beside its questions and blanks: {LENGTH_SCALES} "
                "(rows: each step reads `units` times the rows; steps: `units` times the steps, each of one unit's rows)"})
    text_positions: int = field(default=48, metadata={"help": "positions of the window whose next token is predicted (the LM head is 262k wide)"})
    # Reading the text as much as the questions answers more of questions the document was never asked
    # about: the self-made items cover only some of its facts (docs/benchmarks.md, refinement recipes).
    text_weight: float = field(default=1.0, metadata={"help": "weight of next-token prediction on the text"})
    blank_weight: float = field(default=1.0, metadata={"help": "weight of gold-span CE on the blanks"})
    question_weight: float = field(default=1.0, metadata={"help": "weight of the teacher's top-k on kept natural questions"})
    top_k: int = field(default=16, metadata={"help": "teacher's top-k tokens kept per answer position"})
    vocab_common: int = field(default=4096, metadata={
        "help": "the student's softmax runs over its document's own tokens, the teacher's top-k and this many lowest "
                "(most frequent) token ids; -1: the whole vocabulary"})
    rivals: int = field(default=16, metadata={
        "help": "the student's own likeliest tokens at each scored position (under its starting adapter, read once "
                "over the whole vocabulary) that join the shortlist"})
    train: str = field(default="all", metadata={"help": f"which factors move: {TRAINED_FACTORS} (no-bias: the shared bias rows stay)"})
    # All layers move: freezing the generated lower half is as accurate on documents like the
    # hypernetwork's training data but not on unseen ones, where those layers need correcting too.
    frozen_share: float = field(default=0.0, metadata={
        "help": "share of the lower layers left as generated (rounded down); the backward pass stops above them"})

    def __post_init__(self) -> None:
        if self.lr_rank < 0 or self.warmup < 0:
            raise ValueError(f"RefineConfig lr_rank={self.lr_rank} and warmup={self.warmup} must be >= 0")
        if self.steps < 0 or self.questions < 0 or self.blanks < 0 or self.items_per_step < 1:
            raise ValueError(f"RefineConfig steps={self.steps}, questions={self.questions}, blanks={self.blanks} must be "
                             f">= 0 and items_per_step={self.items_per_step} >= 1")
        if self.lr <= 0 or self.text_tokens < 8 or self.top_k < 1 or self.unit_tokens < 1 or self.vocab_common < -1 or self.rivals < 0:
            raise ValueError(f"RefineConfig lr={self.lr} must be > 0, text_tokens={self.text_tokens} >= 8, top_k={self.top_k} >= 1, "
                             f"unit_tokens={self.unit_tokens} >= 1, vocab_common={self.vocab_common} >= -1, rivals={self.rivals} >= 0")
        if not (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1):
            raise ValueError(f"RefineConfig adam_beta1={self.adam_beta1} and adam_beta2={self.adam_beta2} must be in [0, 1)")
        if not 0 <= self.frozen_share < 1:
            raise ValueError(f"RefineConfig.frozen_share={self.frozen_share} must be in [0, 1)")
        if self.length_scales not in LENGTH_SCALES:
            raise ValueError(f"RefineConfig.length_scales={self.length_scales!r} not in {LENGTH_SCALES}")
        if self.missed_questions not in MISSED_QUESTIONS:
            raise ValueError(f"RefineConfig.missed_questions={self.missed_questions!r} not in {MISSED_QUESTIONS}")
        if self.train not in TRAINED_FACTORS:
            raise ValueError(f"RefineConfig.train={self.train!r} not in {TRAINED_FACTORS}")

    def recipe(self) -> dict:
        """What an adapter refined with this config records in its lineage."""
        return dataclasses.asdict(self)

    def key(self) -> str:
        """The recipe's part of an adapter's version key: '' for unrefined adapters (their keys are unchanged)."""
        if not self.steps:
            return ""
        digest = hashlib.sha256(json.dumps(self.recipe(), sort_keys=True).encode()).hexdigest()[:12]
        return f"refine{self.steps}-{digest}"


@dataclass(frozen=True)
class ComposeConfig:
    """How a document's adapter and a task's adapter are fitted together (hypernet.tasks.fit). All its
    fields are part of a fitted composition's key."""
    steps: int = field(default=20, metadata={"help": "AdamW steps on the task's part of the composition (0: the projection alone)"})
    lr: float = field(default=2e-3, metadata={"help": "AdamW learning rate on the task's factors"})
    warmup: int = field(default=2, metadata={"help": "the learning rate rises linearly over the first steps"})
    adam_beta1: float = field(default=0.6, metadata={"help": "AdamW's decay of its running mean of the gradient"})
    adam_beta2: float = field(default=0.99, metadata={"help": "AdamW's decay of its running mean of the squared gradient"})
    questions: int = field(default=8, metadata={"help": "questions made up from the document, answered by its adapter alone"})
    inputs: int = field(default=8, metadata={"help": "generic inputs, continued by the task adapter alone"})
    task_weight: float = field(default=1.0, metadata={"help": "weight of the task's targets against the document's"})
    text_weight: float = field(default=1.0, metadata={"help": "weight of the document's text, predicted as its adapter alone does"})
    text_tokens: int = field(default=256, metadata={"help": "the document's first tokens read for the text's target"})
    top_k: int = field(default=16, metadata={"help": "each teacher's top-k tokens kept per position"})
    vocab_common: int = field(default=8192, metadata={"help": "most frequent token ids in the student's shortlist"})
    answer_tokens: int = field(default=16, metadata={"help": "longest document answer generated as a target"})
    output_tokens: int = field(default=48, metadata={"help": "longest task output generated as a target"})
    seed: int = field(default=0, metadata={"help": "seed of the generic inputs"})

    def __post_init__(self) -> None:
        if min(self.steps, self.warmup, self.questions, self.inputs, self.seed) < 0:
            raise ValueError(f"ComposeConfig steps, warmup, questions, inputs and seed must be >= 0: {self}")
        if (self.lr <= 0 or min(self.task_weight, self.text_weight, self.vocab_common) < 0 or self.text_tokens < 2
                or self.top_k < 1):
            raise ValueError("ComposeConfig lr must be > 0, task_weight, text_weight and vocab_common >= 0, "
                             f"text_tokens >= 2, top_k >= 1: {self}")
        if self.answer_tokens < 1 or self.output_tokens < 1:
            raise ValueError(f"ComposeConfig answer_tokens and output_tokens must be >= 1: {self}")
        if not (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1):
            raise ValueError(f"ComposeConfig adam_beta1 and adam_beta2 must be in [0, 1): {self}")

    def key(self) -> str:
        """The recipe's part of a composition's key: '' for the projection alone."""
        if not self.steps:
            return ""
        digest = hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:12]
        return f"fit{self.steps}-{digest}"
