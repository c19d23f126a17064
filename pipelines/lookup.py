"""Finding what a request names in the store: a corpus's latest snapshot, a document's text, a
document's latest adapter.

A name the store does not have (or an adapter made for another base model) raises `Unavailable`,
whose one-line message says what to do; the CLI prints it as a user error, a server would answer 404.
Heavy modules are imported inside the functions, so importing this one is cheap.
"""
from __future__ import annotations

from pipelines.settings import Settings


class Unavailable(LookupError):
    """A corpus, document or adapter the store does not have, or not for this base model (the caller's mistake)."""


def check_corpus_name(corpus: str) -> None:
    """Unavailable unless `corpus` is a valid corpus name."""
    from pipelines.snapshot import corpus_uri

    try:
        corpus_uri("store", corpus)
    except ValueError as exc:
        raise Unavailable(str(exc)) from None


def latest_snapshot(settings: Settings, corpus: str) -> str:
    """The corpus's latest snapshot id, or Unavailable saying how to create one."""
    from pipelines.snapshot import latest_snapshot_id

    try:
        snapshot_id = latest_snapshot_id(settings.store, corpus, settings.storage_options)
    except ValueError as exc:  # an invalid corpus name or a corrupt LATEST pointer
        raise Unavailable(str(exc)) from None
    if snapshot_id is None:
        raise Unavailable(f"corpus {corpus!r} has no snapshot in {settings.store}; "
                          f"run `docpatch ingest SOURCE --corpus {corpus}` first")
    return snapshot_id


def document_text(settings: Settings, corpus: str, doc_id: str) -> str:
    """The document's text in the corpus's latest snapshot."""
    import pyarrow.compute as pc

    from pipelines.snapshot import read_snapshot

    latest_snapshot(settings, corpus)
    table = read_snapshot(settings.store, corpus, columns=["doc_id", "text"], storage_options=settings.storage_options)
    rows = table.filter(pc.equal(table.column("doc_id"), doc_id))
    if rows.num_rows == 0:
        raise Unavailable(f"document {doc_id!r} is not in the latest snapshot of corpus {corpus!r}")
    return rows.column("text")[0].as_py()


def latest_adapter(settings: Settings, corpus: str, doc_id: str):
    """(LoraTensors, version id) of the document's latest adapter, checked to fit the configured base model."""
    from hypernet.peft_format import from_peft_files
    from pipelines.patching import open_registry

    registry = open_registry(settings, corpus)
    try:
        manifest = registry.latest(doc_id)
    except ValueError as exc:  # an unsafe doc id
        raise Unavailable(str(exc)) from None
    if manifest is None:
        raise Unavailable(f"document {doc_id!r} has no adapter in corpus {corpus!r}; run `docpatch patch --corpus "
                          f"{corpus}` (or check the id with `docpatch adapters list`)")
    check_base_model(settings, manifest, f"the adapter of {doc_id!r}", "re-patch")
    return from_peft_files(registry.load_files(doc_id, manifest["version_id"])), manifest["version_id"]


def check_base_model(settings: Settings, manifest: dict, what: str, remedy: str) -> None:
    """Unavailable unless the adapter `manifest` describes was made for the configured base model."""
    from hypernet.base_model import resolve

    base = resolve(settings.base_model, settings.cache_dir or None)
    if (manifest["base_model_id"], manifest["base_model_revision"]) != (base.model_id, base.revision):
        raise Unavailable(f"{what} was made for base model {manifest['base_model_id']} "
                          f"({manifest['base_model_revision']}), not {base.model_id} ({base.revision}); "
                          f"pass the same --base-model or {remedy}")
