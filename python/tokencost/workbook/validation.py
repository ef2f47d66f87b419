"""Data-validation rules as Excel stores them, within Excel's limits.

The one way the project makes an openpyxl ``DataValidation``. Excel drops a
rule (with a "repair" prompt) whose ``promptTitle`` or ``errorTitle`` is over
32 characters or whose ``prompt`` or ``error`` is over 255 (MS-OI29500
§2.1.613-614), and stores a list source as a bare formula (``List_Models``,
not ``=List_Models``). Texts made from names (a table and a column) are
shortened here with an ellipsis, so every caller gets a valid rule; the
rule's formula, which cannot be shortened, is refused over 255 characters.
"""
from __future__ import annotations

from openpyxl.worksheet.datavalidation import DataValidation

TITLE_MAX = 32      # promptTitle, errorTitle [characters]
MESSAGE_MAX = 255   # prompt, error [characters]
FORMULA_MAX = 255   # formula1 of a validation rule [characters]


def clip(text: str, limit: int) -> str:
    """*text*, cut to *limit* characters with a trailing ellipsis when longer."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def data_validation(kind: str, formula: str, cells: str, *, title: str, error: str,
                    prompt: str = "", allow_blank: bool = False) -> DataValidation:
    """A validation rule over *cells* (``"B8:B10"``).

    Parameters
    ----------
    kind : str
        ``"custom"`` (*formula* is a condition, true when the entry is valid) or
        ``"list"`` (*formula* is a range or defined name holding the choices).
    formula : str
        The condition or the list source; a leading ``=`` is dropped.
    cells : str
        The cells the rule covers.
    title, error, prompt : str
        The error box title and text, and the input prompt (blank: no prompt).
    allow_blank : bool
        Whether an empty cell passes.
    """
    formula = formula[1:] if formula.startswith("=") else formula
    if len(formula) > FORMULA_MAX:
        raise ValueError(f"a data-validation formula over {FORMULA_MAX} characters, which Excel "
                         f"refuses: {formula[:60]}...")
    dv = DataValidation(type=kind, formula1=formula, allow_blank=allow_blank)
    dv.errorTitle = clip(title, TITLE_MAX)
    dv.error = clip(error, MESSAGE_MAX)
    dv.showErrorMessage = True
    if prompt:
        dv.prompt = clip(prompt, MESSAGE_MAX)
        dv.showInputMessage = True
    dv.add(cells)
    return dv
