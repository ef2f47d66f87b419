"""The package tree shows the architecture, and the imports keep to it.

Data flows one way: ``core`` (pure functions) <- ``inputs`` (schema, validation,
data files, catalogs) <- ``analysis`` (orchestration over the model) <- the
shells: ``workbook`` (building a workbook from templates, reading one, editing
one in place), ``excel`` (the Python functions and their argument conversion)
and ``cli``. Every import is counted, at module level or inside a function, so:

* no circle of imports exists among the package's modules (a function-level
  import that dodges a cycle is a cycle here);
* a layer imports only from the layers below it;
* no module imports another module's private (``_``-prefixed) names.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "tokencost"

#: layer of each top-level part of the package; a module may import from its own layer's
#: part and from lower layers (``shared`` modules are usable by every layer above core)
LAYERS = {
    "errors": 0, "core": 1, "inputs": 2, "analysis": 3, "render": 4,
    "excel": 5, "workbook": 6, "cli": 7, "__main__": 8,
    "__init__": 0.5,   # the package root: its version and the error type, nothing else
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path):
    """(imported module, [names], line, inside a function) of every tokencost import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = base[:len(base) - node.level + 1] if node.level > 1 else base
                module = ".".join(target + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "tokencost":
                continue
            out.append((module, [a.name for a in node.names], node.lineno, id(node) in functions))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tokencost":
                    out.append((alias.name, [], node.lineno, id(node) in functions))
    return out


def _edges():
    modules = _modules()
    edges = {}
    for name, path in modules.items():
        targets = set()
        for module, names, line, _inside in _imports(name, path):
            submodules = [n for n in names if f"{module}.{n}" in modules]
            for n in submodules:   # "from .pkg import mod" imports the module pkg.mod
                targets.add((f"{module}.{n}", line))
            if module in modules and (len(submodules) < len(names) or not names):
                targets.add((module, line))
        edges[name] = {(t, line) for t, line in targets if t != name}
    return modules, edges


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_circle_of_imports():
    modules, edges = _edges()
    graph = {m: {t for t, _ in e} for m, e in edges.items()}
    # a package's __init__ importing its own submodules is not a circle through them
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t.startswith(m + ".") or m.startswith(t + "."):
                continue   # package <-> its own submodule
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_each_layer_imports_only_from_below():
    modules, edges = _edges()
    wrong = []
    for m, targets in edges.items():
        here = _part(m)
        if here not in LAYERS:
            wrong.append((m, "is in no layer"))
            continue
        for t, line in targets:
            there = _part(t)
            if there != here and LAYERS.get(there, 99) >= LAYERS[here]:
                wrong.append((f"{m}:{line}", f"imports {t} ({there} is not below {here})"))
    assert not wrong, "\n".join(f"{a} {b}" for a, b in wrong)


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        for module, names, line, _inside in _imports(name, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")
                       and f"{module}.{n}" not in modules]
            if private and module != name:
                wrong.append(f"{name}:{line} imports {', '.join(private)} from {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("part", ["core", "inputs", "analysis", "workbook", "excel", "cli"])
def test_the_tree_has_the_architectures_parts(part):
    assert (PACKAGE / part / "__init__.py").exists()
