"""The dependency arrows point down only: pipelines -> workers -> hypernet (checked on the source)."""
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


def test_import_check_sees_lazy_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    import ray.data\n    from pipelines.registry import x\n")
    assert imported_roots(src) == {"ray", "pipelines"}
