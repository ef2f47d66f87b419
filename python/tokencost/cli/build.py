"""tokencost build: generate a workbook from a template in templates/."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import UserFacingError
from ._common import CSV_RULE


def register(sub):
    p = sub.add_parser(
        "build", help="generate a workbook from a template (default: tokencost.xlsm)",
        description="Generate a workbook from templates/NAME.toml and the default inputs, with "
                    "every formula's value cached in the file. Writes atomically; an existing "
                    "file is kept as FILE.bak.",
        epilog="Examples:\n  tokencost build\n  tokencost build --template seed --output seed.xlsx\n"
               "  tokencost build --list",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", type=Path, help="file to write (default: the template's output at the repo root)")
    p.add_argument("--template", default="main", help="template name in templates/ or a .toml path (default: main)")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help=f"folder of input CSV files (default: the seed dataset); {CSV_RULE}")
    p.add_argument("--list", action="store_true", help="list the templates and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..inputs.datasets import load_defaults
    from ..workbook.build import build
    from ..workbook.build.base import required_xlwings
    from ..workbook.formula import FormulaError
    from ..workbook.spec import TemplateError, list_templates, load_template, template_path
    if args.list:
        print("\n".join(list_templates()))
        return 0
    try:   # a name the file system refuses (too long, a folder ...) is a bad template name too
        template_path(args.template)
    except TemplateError as err:
        raise UserFacingError(f"template {args.template}: {err}") from None
    except OSError as err:
        raise UserFacingError(f"template {args.template[:80]!r}: {err.strerror or err}") from None
    output = args.output
    if output is not None and args.template == "main" and output.suffix.lower() not in (".xlsm",):
        raise UserFacingError(f"{output}: the main template holds macros (xlwings); use a .xlsm name")
    if output is not None:   # before the build (seconds), not after it
        from ..workbook.files import check_writable
        check_writable(output)
    inputs = load_defaults(args.data)
    from ..errors import InputError
    from ..inputs.validate import formula_text_problems
    formulas = formula_text_problems(inputs)
    if formulas:   # the builder writes text as it is: "=..." would be a formula in the book
        more = f" (and {len(formulas) - 1} more)" if len(formulas) > 1 else ""
        raise InputError(formulas[0].where, formulas[0].message + more)
    try:
        path = build(output, args.template, inputs)
        base = load_template(template_path(args.template)).base
    except (TemplateError, FormulaError, ValueError) as err:  # ValueError: spec.load_template
        raise UserFacingError(f"template {args.template}: {err}") from None
    print(f"wrote {path}")
    if base == "xlwings-standalone":
        v = required_xlwings()
        print(f"{path.name} carries the VBA module of xlwings {v} (it loads xlwings64-{v}.dll, "
              f"installed by `pip install xlwings=={v}`)")
    return 0
