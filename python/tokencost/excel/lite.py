"""Build the self-contained ``main.py`` for xlwings Lite from the same source.

xlwings Lite runs Python inside the Excel add-in (Pyodide), on Windows, macOS
and Excel on the web; its custom functions live in one ``main.py`` pasted into
the add-in's editor, declared with ``from xlwings import func, arg`` and
``@func`` / ``@arg`` [1]_. tokencost is not on PyPI, so the generated file
inlines what the functions need, copied verbatim:

1. the conversion part of :mod:`tokencost.excel.arguments`, the core modules that
   define the functions the UDFs call, and every tokencost module those import
   (found by following their relative imports, so a change in the core is
   picked up; :func:`stale` and the tests say when the committed file lags);
2. a ``core`` namespace so the wrappers read as they do in the package;
3. every function of :mod:`tokencost.excel.udfs`, its body copied from the source,
   with explicit ``@func`` / ``@arg(name, doc=..., ndim=2, err_to_str=True)``
   decorators written from :data:`tokencost.excel.udfs.UDF_SPECS` (the functions marked
   ``lite``: the catalog functions DECODE_TPS_BOUND and MIN_GPUS need the
   package's catalog files and stay in the classic add-in).

numpy and pandas are Pyodide packages; ``requirements.txt`` lists them with
xlwings, unpinned, as the Lite documentation advises for Pyodide-built
packages [2]_.

Usage::

    python -m tokencost.excel.lite            # rewrite xlwings_lite/main.py and requirements.txt
    python -m tokencost.excel.lite --check    # exit 1 when the committed files are stale

References
----------
.. [1] xlwings Lite documentation, "Custom Functions", https://lite.xlwings.org/custom_functions
.. [2] xlwings Lite documentation, "Python Dependencies", https://lite.xlwings.org/dependencies
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

from .. import core
from . import arguments as udf_support, udfs

LITE_MARKER = "# ---- xlwings Lite:"
REQUIREMENTS = "xlwings<1.0.0\nnumpy\npandas\n"
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "xlwings_lite"


def lite_specs() -> list:
    """The UDF specs that go into main.py (those that need only the core)."""
    return [spec for spec in udfs.UDF_SPECS if spec.lite]


def _core_names() -> list[str]:
    """The ``core.<name>`` functions the UDF bodies call, in order of first use."""
    names: list[str] = []
    for node in ast.walk(ast.parse(inspect.getsource(udfs))):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "core" and node.attr not in names):
            names.append(node.attr)
    return names


def _relative_imports(module) -> list:
    """The tokencost modules *module* imports with relative imports."""
    out = []
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = importlib.util.resolve_name("." * node.level + (node.module or ""),
                                               module.__package__)
            for alias in node.names:
                try:
                    out.append(importlib.import_module(f"{base}.{alias.name}"))
                except ImportError:
                    out.append(importlib.import_module(base))
    return out


def inlined_modules() -> list:
    """Modules copied into main.py, each after those it imports: the conversion
    (:mod:`tokencost.excel.arguments`), the core modules defining the functions the
    UDFs call, and everything they import relatively (never the package roots)."""
    roots = [udf_support] + [importlib.import_module(getattr(core, n).__module__)
                             for n in _core_names()]
    order: list = []

    def visit(module):
        if module in order or module.__name__ in ("tokencost", "tokencost.core"):
            return
        for dep in _relative_imports(module):
            visit(dep)
        order.append(module)

    for module in roots:
        visit(module)
    return order


def _module_body(module) -> tuple[str, list[str], set[str]]:
    """Source of *module* without its docstring, imports and ``__all__``;
    its absolute imports; its top-level names."""
    source = inspect.getsource(module)
    if module is udf_support:
        source = source[: source.index(LITE_MARKER)]
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    imports: list[str] = []
    names: set[str] = set()
    for i, node in enumerate(tree.body):
        span = range(node.lineno - 1, node.end_lineno)
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            drop.update(span)  # module docstring
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            drop.update(span)
            if isinstance(node, ast.ImportFrom) and node.level:
                if any(alias.asname for alias in node.names):  # the name would not exist
                    raise ValueError(f"{module.__name__}: 'as' in a relative import "
                                     "cannot be inlined into main.py")
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            imports.append(ast.unparse(node))
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            drop.update(span)
        else:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    kept = [line for n, line in enumerate(lines) if n not in drop]
    return "\n".join(kept).strip("\n"), imports, names


def _udf_source(spec) -> str:
    """The function's ``def`` and body from :mod:`tokencost.excel.udfs`, with Lite decorators."""
    source = inspect.getsource(udfs)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == spec.name:
            body = "\n".join(source.splitlines()[node.lineno - 1: node.end_lineno])
            break
    else:  # pragma: no cover - UDF_SPECS and the module agree by construction
        raise LookupError(spec.name)
    options = ", ".join(f"{k}={v!r}" for k, v in udf_support.XLWINGS_ARG_OPTIONS.items())
    decorators = ["@func"] + [f"@arg({name!r}, {options}, doc={doc!r})"
                              for name, doc in zip(spec.args, spec.arg_docs)]
    return "\n".join(decorators + [body])


def build_main_py() -> str:
    """The text of ``xlwings_lite/main.py``."""
    from .. import __version__
    imports: list[str] = ["import types"]
    bodies: list[str] = []
    seen: dict[str, str] = {}
    for module in inlined_modules():
        body, module_imports, names = _module_body(module)
        for name in names:
            if name in seen:
                raise ValueError(f"{name} is defined in {seen[name]} and {module.__name__}")
            seen[name] = module.__name__
        for line in module_imports:
            if line not in imports:
                imports.append(line)
        relative = module.__name__.replace(".", "/") + ".py"
        bodies.append(f"# {'-' * 20} from python/{relative} {'-' * 20}\n\n{body}")
    used = _core_names()
    missing = [name for name in used if name not in seen]
    if missing:
        raise ValueError(f"core functions not inlined: {missing}")
    namespace = ",\n    ".join(f"{name}={name}" for name in used)
    header = f'''\
# xlwings Lite custom functions of tokencost {__version__}: what an AI token costs to serve.
#
# GENERATED by `python -m tokencost.excel.lite` from the tokencost package: do not edit here.
# Paste this whole file into xlwings Lite's main.py, and requirements.txt into its
# requirements.txt tab. Then type e.g. =COST_PER_MTOK(1.92, 400) into a cell.
# The functions, their arguments and their messages are those of tokencost.excel.udfs.
from __future__ import annotations

{chr(10).join(sorted(imports))}

from xlwings import arg, func
'''
    udf_part = "\n\n\n".join(_udf_source(spec) for spec in lite_specs())
    return (header + "\n\n" + "\n\n\n".join(bodies)
            + f"\n\n\n# {'-' * 20} the core functions, as tokencost.core {'-' * 20}\n\n"
            + f"core = types.SimpleNamespace(\n    {namespace},\n)\n"
            + f"\n\n# {'-' * 20} the Excel functions, as tokencost.excel.udfs {'-' * 20}\n\n\n"
            + udf_part + "\n")


def write(directory: Path = DEFAULT_DIR) -> list[Path]:
    """Write ``main.py`` and ``requirements.txt`` into *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "main.py", directory / "requirements.txt"]
    paths[0].write_text(build_main_py(), encoding="utf-8", newline="\n")
    paths[1].write_text(REQUIREMENTS, encoding="utf-8", newline="\n")
    return paths


def stale(directory: Path = DEFAULT_DIR) -> list[Path]:
    """The files in *directory* that differ from what :func:`write` would write."""
    expected = {"main.py": build_main_py(), "requirements.txt": REQUIREMENTS}
    out = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(path)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tokencost.excel.lite",
        description="Write the self-contained xlwings Lite main.py and requirements.txt.",
        epilog="Example: python -m tokencost.excel.lite --check",
    )
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"output folder (default: {DEFAULT_DIR})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files are missing or stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.dir)
        for path in bad:
            print(f"stale: {path} (run python -m tokencost.excel.lite)", file=sys.stderr)
        return 1 if bad else 0
    for path in write(args.dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
