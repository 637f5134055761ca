"""The package's layers: each subpackage imports only those above it, and nothing in attention/ imports Streamlit."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "data", "training", "analysis", "viz", "app"]  # top to bottom: a layer may import those before it


def imports(path):
    """Every module a file imports, at the top or inside functions."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_above_it(layer):
    allowed = {f"attention.{name}" for name in LAYERS[: LAYERS.index(layer) + 1]}
    for path in (ROOT / "attention" / layer).glob("*.py"):
        for name in imports(path):
            assert not name.startswith("streamlit"), f"{path.name} imports {name}"
            if name.startswith("attention."):
                assert ".".join(name.split(".")[:2]) in allowed, f"{layer}/{path.name} imports {name}"
