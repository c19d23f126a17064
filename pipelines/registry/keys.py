"""What names an adapter version (its key and id), what a doc id may be, and where each lives in the layout."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass

VERSION_ID_HEX = 20
VERSION_ID = re.compile(rf"[0-9a-f]{{{VERSION_ID_HEX}}}")
DOCS_DIR = "docs"
POINTER_FILE = "latest.json"


def check_doc_id(doc_id: str) -> None:
    """Refuse ids that would escape or hide inside the layout (ids are sanitised upstream)."""
    if not isinstance(doc_id, str) or not doc_id or "/" in doc_id or "\\" in doc_id or ".." in doc_id \
            or doc_id.startswith(".") or "\x00" in doc_id:
        raise ValueError(f"unsafe doc_id {doc_id!r}: no '/', '\\', '..', NUL or leading '.'")


@dataclass(frozen=True)
class AdapterKey:
    """What makes an adapter version: the document's content and what generated the adapter."""

    doc_id: str
    doc_sha256: str
    hypernet_id: str
    base_model_id: str
    base_model_revision: str
    refine: str = ""  # the refinement recipe's key (RefineConfig.key); "" for adapters published as generated

    def __post_init__(self) -> None:
        check_doc_id(self.doc_id)
        for f in dataclasses.fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise ValueError(f"AdapterKey.{f.name} must be a str, got {getattr(self, f.name)!r}")

    @property
    def version_id(self) -> str:
        # JSON of the list joins the fields unambiguously ("a","bc" != "ab","c").
        fields = [getattr(self, f.name) for f in dataclasses.fields(self)]
        if not self.refine:  # unrefined adapters keep the ids they had before refinement existed
            fields.pop()
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:VERSION_ID_HEX]


def key_of(manifest: dict) -> AdapterKey:
    """The key a manifest was written for."""
    return AdapterKey(**{f.name: manifest.get(f.name, f.default) for f in dataclasses.fields(AdapterKey)})


def pointer_path(doc_id: str) -> str:
    return f"{DOCS_DIR}/{doc_id}/{POINTER_FILE}"


def versions_dir(doc_id: str) -> str:
    return f"{DOCS_DIR}/{doc_id}/versions"
