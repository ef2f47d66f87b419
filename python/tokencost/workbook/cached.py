"""Store cached values beside formulas in a saved .xlsx/.xlsm, deterministically.

openpyxl writes ``<c><f>formula</f><v></v></c>``: the formula without its
result. :func:`inject_cached_values` rewrites each worksheet part so that
every formula cell carries its value (``t="str"`` for text, ``t="b"`` for
booleans, ``t="e"`` for errors), and rewrites the zip with fixed timestamps
so two builds of the same inputs are byte-identical.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from typing import Callable, Dict, Optional, Tuple
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from .formula import XLError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)

_CELL = re.compile(
    r'<c r="(?P<ref>[A-Z]+\d+)"(?P<attrs>[^>]*)>(?P<f><f(?:\s[^>]*)?>.*?</f>|<f[^>]*/>)'
    r'(?:<v\s*/>|<v>[^<]*</v>)?</c>', re.S)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def sheet_parts(zf: zipfile.ZipFile) -> Dict[str, str]:
    """Worksheet name -> part path inside the package."""
    wb = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in wb.iter(f"{_NS_MAIN}sheet"):
        target = targets[sheet.get(f"{_NS_REL}id")]
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        out[sheet.get("name")] = path
    return out


def _v(value) -> Tuple[str, str]:
    """(type attribute, <v> text) for a cached value."""
    if isinstance(value, XLError):
        return ' t="e"', escape(str(value))
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if value is None:
        return ' t="str"', ""
    if isinstance(value, str):
        return ' t="str"', escape(value)
    return "", repr(float(value))


def formula_text(f_element: str) -> str:
    """The formula of an ``<f ...>...</f>`` element, unescaped, without ``=``."""
    from xml.sax.saxutils import unescape
    m = re.match(r"<f[^>]*>(.*)</f>", f_element, re.S)
    return unescape(m.group(1), {"&quot;": '"', "&apos;": "'"}) if m else ""


def inject_cached_values(path: str, value_of: Callable[[str, str], object],
                         modified: Optional[str] = None,
                         keep: Optional[Callable[[str, str, str], bool]] = None) -> int:
    """Rewrite *path* in place: every formula cell gets ``value_of(sheet, "B7")``.

    *keep(sheet, ref, formula)*, when given and true for a cell, leaves that
    cell's stored value as it is (e.g. a UDF cell that the engine recalculating
    the book cannot compute).

    *modified* (``2026-01-01T00:00:00Z``), when given, replaces the document's
    last-modified time (openpyxl stamps the wall clock on every save; a build
    must not). The caches of chart series on chart names follow the same values
    (:func:`tokencost.workbook.charts.refresh_chart_caches`). Returns the number
    of formula cells filled.
    """
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        data = {i.filename: zf.read(i.filename) for i in infos}
        parts = {v: k for k, v in sheet_parts(zf).items()}
    filled = 0
    for part, sheet in parts.items():
        xml = data[part].decode("utf-8")

        def fill(m, sheet=sheet):
            nonlocal filled
            if keep is not None and keep(sheet, m.group("ref"), formula_text(m.group("f"))):
                return m.group(0)
            attrs = re.sub(r'\s+t="[^"]*"', "", m.group("attrs"))
            kind, text = _v(value_of(sheet, m.group("ref")))
            filled += 1
            return f'<c r="{m.group("ref")}"{attrs}{kind}>{m.group("f")}<v>{text}</v></c>'

        data[part] = _CELL.sub(fill, xml).encode("utf-8")
    from .charts import refresh_chart_caches
    refresh_chart_caches(data, value_of)   # charts on names draw these caches in LibreOffice
    if modified and "docProps/core.xml" in data:
        core = data["docProps/core.xml"].decode("utf-8")
        core = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{modified}\g<2>",
                      core)
        data["docProps/core.xml"] = core.encode("utf-8")
    write_deterministic_zip(path, [(i, data[i.filename]) for i in infos])
    return filled


def write_deterministic_zip(path: str, entries) -> None:
    """Write (ZipInfo, bytes) entries with a fixed timestamp, in the given order."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, blob in entries:
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            out.writestr(zi, blob)


_FORMULA = re.compile(r"<f>(?P<text>[^<]*)</f>")


def rewrite_formulas(path: str, rewrite: Callable[[str], Optional[str]]) -> int:
    """Rewrite *path* in place: each plain formula (``<f>text</f>``, not shared or
    array formulas) becomes ``rewrite("=" + text)`` when that returns a formula
    other than None. Returns the number of formulas changed."""
    from xml.sax.saxutils import unescape
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        data = {i.filename: zf.read(i.filename) for i in infos}
        parts = sheet_parts(zf)
    changed = 0
    for part in parts.values():
        def sub(m):
            nonlocal changed
            old = "=" + unescape(m.group("text"), {"&quot;": '"', "&apos;": "'"})
            new = rewrite(old)
            if new is None or new == old:
                return m.group(0)
            changed += 1
            return f"<f>{escape(new[1:])}</f>"
        data[part] = _FORMULA.sub(sub, data[part].decode("utf-8")).encode("utf-8")
    write_deterministic_zip(path, [(i, data[i.filename]) for i in infos])
    return changed
