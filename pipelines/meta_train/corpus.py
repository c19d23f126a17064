"""Meta-training on the corpus being patched: its documents, its adapters as dense targets, its own QA.

The pieces of `docpatch train --corpus KB` (the meta-train flow with `MetaTrainJob.training_corpus`) that are
not Prefect, not Ray and not the models' arithmetic:

    split          the latest snapshot's documents, split by a hash of the doc id into train and held out
                   (`holdout_share`, 10 % by default); held-out documents are never trained on
    targets        each training document's latest adapter in the corpus's registry (made by `docpatch patch`,
                   refined when the pipeline refines): the dense targets; none at all is an error, and
                   adapters that were not refined are counted and warned about
    questions      self-made natural questions (hypernet.self_questions) for the distillation share of
                   the steps (blanks with their gold answers where a document yields no question)
    corpus QA      the held-out documents' natural questions that the in-context teacher answers right:
                   the corpus's own QA, on which the new hypernetwork must beat the current one
    routing        the new checkpoints keep the current hypernetwork for documents unlike the training ones
                   (hypernet.routing; `route_quantile`)
    decision       wins on the corpus QA and loses at most `generic_tolerance` (relative) on the generic
                   held-out file
    flywheel       `{corpus}/meta_training.json` records the last corpus training; the nightly flow
                   counts the refined adapters published since then
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Callable

from pipelines.settings import Settings
from pipelines.versioned_store import json_bytes

log = logging.getLogger(__name__)

MARKER_FILE = "meta_training.json"
HOLDOUT_IDS_KEPT = 1000  # the report lists held-out ids up to this many (and always their digest)


def held_out(doc_id: str, share: float) -> bool:
    """Whether a document is in the held-out split: a pure function of its id (sha256 as a fraction)."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass
class CorpusSplit:
    """A corpus's documents for one training run."""

    corpus: str
    snapshot_id: str
    holdout_share: float
    train: list[dict] = field(default_factory=list)  # {doc_id, text}
    holdout: list[dict] = field(default_factory=list)

    def record(self) -> dict:
        """What the report keeps: counts, the held-out ids (up to HOLDOUT_IDS_KEPT) and their digest."""
        ids = sorted(d["doc_id"] for d in self.holdout)
        return {"corpus": self.corpus, "snapshot_id": self.snapshot_id, "holdout_share": self.holdout_share,
                "n_train": len(self.train), "n_holdout": len(ids),
                "holdout_digest": hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16],
                "holdout_ids": ids[:HOLDOUT_IDS_KEPT], "holdout_ids_truncated": len(ids) > HOLDOUT_IDS_KEPT}


def split_corpus(settings: Settings, corpus: str, holdout_share: float) -> CorpusSplit:
    """The latest snapshot's documents, split by `held_out`; FileNotFoundError when there is no snapshot."""
    from pipelines.snapshot import latest_snapshot_id, read_snapshot

    snapshot_id = latest_snapshot_id(settings.store, corpus, settings.storage_options)
    if snapshot_id is None:
        raise FileNotFoundError(f"corpus {corpus!r} has no snapshot in {settings.store}; run `docpatch ingest` first")
    table = read_snapshot(settings.store, corpus, snapshot_id, columns=["doc_id", "text"],
                          storage_options=settings.storage_options)
    split = CorpusSplit(corpus, snapshot_id, holdout_share)
    for doc_id, text in zip(table.column("doc_id").to_pylist(), table.column("text").to_pylist()):
        (split.holdout if held_out(doc_id, holdout_share) else split.train).append({"doc_id": doc_id, "text": text})
    if not split.train:
        raise ValueError(f"corpus {corpus!r}: no document is left to train on (holdout_share={holdout_share})")
    return split


def route_checkpoints(settings: Settings, folders: dict[int, str], train_docs: list[dict], fallback_folder: str,
                      quantile: float) -> dict:
    """Make each checkpoint folder a routed one (hypernet.routing): documents unlike `train_docs` keep the
    adapters of the hypernetwork in `fallback_folder`. What the report keeps: the router's fit, or why the
    checkpoints were left unrouted (the fallback cuts documents differently)."""
    from hypernet import routing
    from hypernet.base_model import load_tokenizer, resolve
    from hypernet.model import HyperNetwork, checkpoint_id

    tok = load_tokenizer(resolve(settings.base_model, settings.cache_dir or None).path)
    token_ids = [tok(d["text"], add_special_tokens=False).input_ids for d in train_docs]
    fitted = routing.fit(token_ids, quantile)
    fallback = HyperNetwork.load(fallback_folder)
    try:
        for folder in folders.values():
            routing.write(folder, fitted, fallback)
    except ValueError as exc:
        return {"routed": False, "reason": str(exc)}
    named = checkpoint_id(fallback_folder)
    return {"routed": True, **fitted.record(),
            "fallback": named if fallback.router is None else f"the fallback of {named}"}


# -- dense targets: the registry's adapters ------------------------------------------------------------------
class NoTrainingTargets(ValueError):
    """The corpus has no adapter to learn from (a user error: patch it first)."""


def is_refined(manifest: dict) -> bool:
    """Whether an adapter version was refined: its key names a refinement recipe (manifest["refine"], see
    hypernet.refine.RefineConfig.key), or its lineage records one (lineage["refine"], with steps)."""
    if manifest.get("refine"):
        return True
    refine = (manifest.get("lineage") or {}).get("refine")
    if isinstance(refine, dict):
        return int(refine.get("steps", 0) or 0) > 0
    return bool(refine)


@dataclass
class DenseTargets:
    """The training documents that have an adapter for the base model: {doc_id, text, version_id}."""

    docs: list[dict]
    refined: int
    unrefined: int
    missing: int  # training documents without a live adapter
    other_base_model: int  # with an adapter for another base model (not used)
    hypernet_ids: dict[str, int]  # how many targets each hypernetwork made

    def record(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "docs"} | {"n_targets": len(self.docs)}


def registry_of(settings: Settings, corpus: str):
    """The corpus's adapter registry, without the local file cache (training reads each adapter once)."""
    from pipelines.registry import Registry
    from pipelines.versioned_store import registry_uri

    return Registry(registry_uri(settings.store, corpus), settings.storage_options)


def dense_targets(settings: Settings, corpus: str, docs: list[dict], base_model_id: str,
                  base_model_revision: str) -> DenseTargets:
    """Each document's latest adapter made for this base model; NoTrainingTargets when there is none at all."""
    registry = registry_of(settings, corpus)
    # The pointers themselves: the index may lag a killed run.
    manifests = registry.map(lambda d: registry.latest(d["doc_id"]), docs)
    targets = DenseTargets([], 0, 0, 0, 0, {})
    for doc, manifest in zip(docs, manifests):
        if manifest is None:
            targets.missing += 1
        elif (manifest["base_model_id"], manifest["base_model_revision"]) != (base_model_id, base_model_revision):
            targets.other_base_model += 1
        else:
            targets.docs.append({**doc, "version_id": manifest["version_id"]})
            refined = is_refined(manifest)
            targets.refined += refined
            targets.unrefined += not refined
            targets.hypernet_ids[manifest["hypernet_id"]] = targets.hypernet_ids.get(manifest["hypernet_id"], 0) + 1
    if not targets.docs:
        other = (f" ({targets.other_base_model} are for another base model than {base_model_id})"
                 if targets.other_base_model else "")
        raise NoTrainingTargets(f"corpus {corpus!r} has no adapters to train on{other}; run `docpatch patch --corpus "
                         f"{corpus}` first (with refinement on, the adapters are better targets)")
    return targets


def adapter_loader(settings: Settings, corpus: str) -> Callable[[dict], dict[str, bytes]]:
    """doc {doc_id, version_id} -> that adapter version's PEFT files (checked against its manifest)."""
    registry = registry_of(settings, corpus)
    return lambda doc: registry.load_files(doc["doc_id"], doc["version_id"])


# -- questions --------------------------------------------------------------------------------------------------
def distillation_documents(docs: list[dict], questions_per_doc: int) -> list[dict]:
    """Training documents in the form of workers.train_data.training_documents: each with up to
    `questions_per_doc` natural questions the document asks of itself (the teacher's answers are the
    targets), or, when it yields none, as many fill-in-the-blank items trained on their gold answers."""
    from hypernet.self_questions import natural_questions, self_questions

    out = []
    for doc in docs:
        items = natural_questions(doc["text"], questions_per_doc)
        gold_only = not items
        items = items or self_questions(doc["text"], questions_per_doc)
        if items:
            out.append({"doc_id": doc["doc_id"], "text": doc["text"], "qa": [[x.question, x.answer] for x in items],
                        "parts": 0, **({"gold_only": True} if gold_only else {})})
    return out


def corpus_qa(docs: list[dict], questions_per_doc: int,
              context_correct: Callable[[list[dict]], list[list[bool]]], limit: int = 0) -> list[dict]:
    """Eval records {id, text, qa} of the held-out documents: their natural questions that the in-context
    teacher answers right (`context_correct(records)`: per record, per question). Documents left with no
    question are dropped. With `limit`, the first `limit` such records: documents are judged in order, only
    as many as it takes (the teacher answers every question of every document it judges, the slow part)."""
    from hypernet.self_questions import natural_questions

    candidates = [{"id": d["doc_id"], "text": d["text"],
                   "qa": [{"q": x.question, "a": x.answer} for x in natural_questions(d["text"], questions_per_doc)]}
                  for d in docs]
    candidates = [c for c in candidates if c["qa"]]
    kept: list[dict] = []
    while candidates and (not limit or len(kept) < limit):
        n = limit - len(kept) if limit else len(candidates)
        judged, candidates = candidates[:n], candidates[n:]
        verdicts = context_correct(judged)
        answered = [{**c, "qa": [qa for qa, ok in zip(c["qa"], oks) if ok]} for c, oks in zip(judged, verdicts)]
        kept += [k for k in answered if k["qa"]]
    return kept


def teacher_verdicts(model, tok, read_dtype: str = "auto") -> Callable[[list[dict]], list[list[bool]]]:
    """`context_correct` for `corpus_qa`: the base model's greedy answer with the document in context,
    judged as `docpatch eval` judges (hypernet.evaluate)."""
    from hypernet.evaluate import evaluate_docs

    def judge(records: list[dict]) -> list[list[bool]]:
        report = evaluate_docs(records, ["context"], model, tok, None, read_dtype=read_dtype)
        answers = iter(report["answers"])  # one row per question, in order
        return [[bool(next(answers)["context_ok"]) for _ in rec["qa"]] for rec in records]

    return judge


def write_jsonl(records: list[dict], path: str) -> str:
    with open(path, "w") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


# -- the decision -------------------------------------------------------------------------------------------------
def decide(candidate_id: str, corpus_eval: dict, generic_eval: dict, final_step: int, tolerance: float,
           force: bool) -> dict:
    """Register the candidate when its adapters answer more of the corpus's own held-out questions than the
    current hypernetwork's, and at most `tolerance` (relative) fewer of the generic file's; a current one
    that does not fit the base model has nothing to defend; `force` registers anyway."""
    current = corpus_eval["current"]
    step = str(final_step)
    corpus_new, corpus_old = corpus_eval["checkpoints"][step], current.get("accuracy")
    generic_new, generic_old = generic_eval["checkpoints"][step], generic_eval["current"].get("accuracy")
    base = {"candidate_id": candidate_id, "current_id": current["id"], "forced": force, "tolerance": tolerance,
            "corpus": {"candidate": corpus_new, "current": corpus_old, "n_questions": corpus_eval["n_questions"]},
            "generic": {"candidate": generic_new, "current": generic_old, "n_questions": generic_eval["n_questions"]}}
    if candidate_id == current["id"]:
        return {**base, "register": False, "promoted": False, "reason": "the candidate already is the current hypernetwork"}
    if not current.get("compatible", True):
        return {**base, "register": True, "reason": f"the current hypernetwork {current['id']} does not fit the base "
                                                    f"model ({current.get('error')}): nothing to beat"}
    floor = (1 - tolerance) * generic_old
    comparison = (f"held-out corpus questions {corpus_new:.3f} vs current {corpus_old:.3f} "
                  f"({corpus_eval['n_questions']} questions); generic {generic_new:.3f} vs {generic_old:.3f} "
                  f"(floor {floor:.3f})")
    if not corpus_eval["n_questions"]:
        verdict = "the held-out split has no question the in-context teacher answers: nothing to judge by"
    elif corpus_new <= corpus_old:
        verdict = "does not beat the current hypernetwork on the corpus"
    elif generic_new < floor:
        verdict = f"loses more than {tolerance:.0%} on the generic file"
    else:
        return {**base, "register": True, "reason": f"beats the current hypernetwork on the corpus: {comparison}"}
    if force:
        return {**base, "register": True, "reason": f"forced (--force); {verdict}: {comparison}"}
    return {**base, "register": False, "promoted": False,
            "reason": f"{verdict}: {comparison}; not registered (--force registers anyway)"}


# -- the flywheel ---------------------------------------------------------------------------------------------
def _corpus_storage(settings: Settings, corpus: str):
    from pipelines.snapshot import corpus_uri
    from workers.storage import open_storage

    return open_storage(corpus_uri(settings.store, corpus), settings.storage_options)


def last_training(settings: Settings, corpus: str) -> dict | None:
    """The record of the corpus's last meta-training, or None."""
    data = _corpus_storage(settings, corpus).read(MARKER_FILE)
    return json.loads(data) if data else None


def record_training(settings: Settings, corpus: str, record: dict) -> None:
    """Replace the record of the corpus's last meta-training (whatever the decision)."""
    body = json_bytes(record)
    _corpus_storage(settings, corpus).update(MARKER_FILE, lambda _current: body)


def refined_since(settings: Settings, corpus: str, since: str | None) -> int:
    """Live documents whose latest adapter is refined and was published after `since` (ISO time; None: ever),
    as the registry's index shows them (the pipeline updates it with each group it publishes)."""
    registry = registry_of(settings, corpus)
    rows = [r for r in registry.list() if not r.get("tombstoned") and (since is None or (r["created_at"] or "") > since)]
    manifests = registry.map(lambda r: registry.latest(r["doc_id"]), rows)
    return sum(1 for m in manifests if m is not None and is_refined(m))
