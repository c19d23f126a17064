"""The dependency arrows point down only: pipelines -> workers -> hypernet (checked on the source); storage
(workers/storage/) is the only importer of fsspec and s3fs and imports no model, Ray or Prefect; the CLI
(pipelines/cli/) is a thin layer over the library that imports no model, storage or registry internals."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "hypernet": {"workers", "pipelines", "ray", "prefect", "prefect_ray"},
    "workers": {"pipelines", "prefect", "prefect_ray"},
}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module a file imports, at any depth (lazy imports count too)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_the_layers_below_it(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources found for {package}"
    bad = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files}
    assert not {f: names for f, names in bad.items() if names}


# Filesystems and object stores are spoken to in one place; every other module goes through it.
STORAGE = "workers/storage"
STORAGE_CLIENTS = {"fsspec", "s3fs"}
STORAGE_FORBIDDEN = {"torch", "ray", "prefect", "prefect_ray", "hypernet", "pipelines", "transformers", "peft",
                     "safetensors"}


def storage_client_imports(root: Path) -> dict[str, list[str]]:
    """Modules of hypernet/, workers/ and pipelines/ outside the storage package that import fsspec or s3fs."""
    found = {}
    for package in ("hypernet", "workers", "pipelines"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            names = sorted(imported_roots(path) & STORAGE_CLIENTS)
            if names and not rel.startswith(STORAGE + "/"):
                found[rel] = names
    return found


def test_only_the_storage_package_imports_fsspec_or_s3fs():
    assert not storage_client_imports(ROOT)


def test_storage_client_check_finds_a_stray_import(tmp_path):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "workers" / "storage").mkdir(parents=True)
    (tmp_path / "pipelines" / "m.py").write_text("import os\ndef f():\n    from fsspec.asyn import sync\n")
    (tmp_path / "workers" / "storage" / "s3.py").write_text("import s3fs\n")
    (tmp_path / "workers" / "m.py").write_text('"""Not through s3fs."""\n')
    assert storage_client_imports(tmp_path) == {"pipelines/m.py": ["fsspec"]}


def test_storage_imports_no_model_ray_prefect_or_other_workers_module():
    files = sorted((ROOT / STORAGE).rglob("*.py"))
    assert files, "workers/storage/ should hold the storage package"
    bad = {str(f.relative_to(ROOT)): sorted((imported_roots(f) & STORAGE_FORBIDDEN)
                                            | {m for m in imported_modules(f) if m.startswith("workers.")
                                               and not m.startswith("workers.storage")}) for f in files}
    assert not {f: names for f, names in bad.items() if names}


def test_import_check_sees_lazy_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    import ray.data\n    from pipelines.registry import x\n")
    assert imported_roots(src) == {"ray", "pipelines"}


# The CLI parses and prints; models, storage and registries are reached through library functions
# (pipelines.answering, pipelines.lookup, pipelines.flows, ...), so a server can call the same ones.
CLI_FORBIDDEN = ("torch", "ray", "prefect", "prefect_ray", "fsspec", "s3fs", "safetensors", "transformers", "peft",
                 "pyarrow", "workers", "pipelines.registry", "pipelines.versioned_store", "pipelines.snapshot",
                 "pipelines.hypernets", "pipelines.tasks")
# Of hypernet, the CLI may use the knobs it makes flags from and the entry points of `eval` and `train`.
CLI_HYPERNET_API = ("hypernet.config", "hypernet.evaluate", "hypernet.train")


def imported_modules(path: Path) -> set[str]:
    """Dotted names of every module a file imports, at any depth; `from a import b` counts as a and a.b."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def cli_violations(path: Path) -> list[str]:
    """The imports of a CLI module that reach past the library API."""
    return sorted(name for name in imported_modules(path)
                  if _under(name, CLI_FORBIDDEN)
                  or (_under(name, ("hypernet",)) and name != "hypernet" and not _under(name, CLI_HYPERNET_API)))


def test_cli_imports_no_model_storage_or_registry_internals():
    files = sorted((ROOT / "pipelines" / "cli").rglob("*.py"))
    assert len(files) > 3, "pipelines/cli/ should be a package of command modules"
    bad = {str(f.relative_to(ROOT)): cli_violations(f) for f in files}
    assert not {f: names for f, names in bad.items() if names}


def test_cli_import_check_flags_internals_and_allows_the_api(tmp_path):
    src = tmp_path / "cmd.py"
    src.write_text("import argparse\nfrom pipelines.flows import patch_flow\nfrom hypernet.config import TrainConfig\n"
                   "def run():\n    import torch\n    from workers import storage\n"
                   "    from hypernet.lora import from_peft_files\n    from hypernet import base_model\n"
                   "    from pipelines.registry import Registry\n")
    assert cli_violations(src) == ["hypernet.base_model", "hypernet.lora", "hypernet.lora.from_peft_files",
                                   "pipelines.registry", "pipelines.registry.Registry", "torch", "workers",
                                   "workers.storage"]
