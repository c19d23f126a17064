"""The adapter registry: immutable PEFT adapter versions per document, a `latest` pointer per document.

Layout under the registry URI (`registry_uri(store, corpus)`: a local directory or s3://bucket/prefix):

    docs/{doc_id}/versions/{version_id}/adapter_config.json
    docs/{doc_id}/versions/{version_id}/adapter_model.safetensors
    docs/{doc_id}/versions/{version_id}/manifest.json   written last, create-only: a version exists
                                                        exactly when its manifest does
    docs/{doc_id}/latest.json                           the served version (or a tombstone), moved
                                                        only by compare-and-swap
    index.parquet                                       one row per document, for fast listing

Versions and pointers are pipelines/versioned_store.py's, shared with the hypernetwork registry.
- keys.py      AdapterKey (what makes a version, and its id), doc id checks, the paths of the layout
- adapters.py  Registry: publish, pointers and tombstones, reading and exporting versions
- index.py     index.parquet, a cache rebuilt from the pointers
- upkeep.py    verify and gc
"""
from pipelines.registry.adapters import PublishResult, Registry
from pipelines.registry.keys import AdapterKey, check_doc_id
from pipelines.versioned_store import IntegrityError

__all__ = ["AdapterKey", "IntegrityError", "PublishResult", "Registry", "check_doc_id"]
