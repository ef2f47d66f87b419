"""Rules Excel enforces when it opens a package, beyond what its XML schema says.

Excel offers to "repair" a workbook (and drops what it repairs) when a part
breaks one of its own limits, many of which no XML schema states: a
data-validation title over 32 characters, a list validation whose source
starts with ``=``, a defined name that reads as a cell reference... Schema
validation (tests use the ``openxml-audit`` port of the Open XML SDK
validator) catches the rest. :func:`lint_package` reads a package and lists
every breach as a :class:`Defect`; it changes nothing and needs no Excel.

Rules (with their source):

* **content types**: every part is covered by a ``Default`` (extension) or an
  ``Override`` of ``[Content_Types].xml``, and every ``Override`` names a part
  that exists (ECMA-376 Part 2 (OPC) §10.1.2.4, M2.4);
* **relationships**: every ``.rels`` part belongs to a part that exists, and
  every internal target exists (OPC §9.3);
* **well-formed XML**: every XML part parses (a part that does not is skipped,
  unreported, by the schema validator);
* **data validation**: ``promptTitle`` and ``errorTitle`` at most 32
  characters, ``prompt`` and ``error`` at most 255 (MS-OI29500 §2.1.613,
  §2.1.614), ``formula1``/``formula2`` at most 255 characters, a ``list``
  source without a leading ``=`` (Excel stores a bare formula) and a literal
  list (``"a,b"``) of at most 255 characters;
* **charts**: a ``scatterChart`` has a ``scatterStyle`` (ISO/IEC 29500-1
  §21.2.2.161, required), and every axis states ``delete`` (an axis without
  it is drawn hidden by current Excel, though the schema makes it optional);
* **tables**: the header cells' text equals the ``tableColumn`` names, in
  order; the ``autoFilter`` covers the table's range; display names are
  unique and valid names;
* **defined names**: valid characters, at most 255 characters, not ``TRUE``
  or ``FALSE``, not reading as an A1 or R1C1 cell reference, unique within
  their scope (Excel's "The name that you entered is not valid" rules);
* **sheet names**: 1 to 31 characters, none of ``: \\ / ? * [ ]``, not
  starting or ending with an apostrophe, not ``History``, unique ignoring
  case (Excel's rename-sheet rules);
* **cells**: a formula at most 8,192 characters, a text at most 32,767
  (Excel's specifications and limits), a style index inside ``cellXfs``.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

#: Excel's limits (Excel specifications and limits; MS-OI29500 §2.1.613-614)
TITLE_MAX = 32
MESSAGE_MAX = 255
DV_FORMULA_MAX = 255
FORMULA_MAX = 8192
CELL_TEXT_MAX = 32767
NAME_MAX = 255
SHEET_NAME_MAX = 31
MAX_COLUMN = 16384
MAX_ROW = 1048576

_SHEET_FORBIDDEN = set(':\\/?*[]')
_NAME_CHARS = re.compile(r"^[A-Za-z_\\\u00C0-\uFFFF][A-Za-z0-9_.\\\u00C0-\uFFFF]*$")
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_R1C1 = re.compile(r"^([Rr](\d*)|[Cc](\d*)|[Rr](\d*)[Cc](\d*))$")
_AXES = ("catAx", "valAx", "dateAx", "serAx")


@dataclass(frozen=True)
class Defect:
    """One breach of a rule: the part, where in it, the rule's name, what is wrong."""
    part: str
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.part}{where}: [{self.rule}] {self.message}"


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def name_problem(name: str) -> Optional[str]:
    """Why Excel refuses *name* as a defined name (None: a valid name)."""
    if name.startswith("_xlnm."):
        return None   # Excel's built-in names (_xlnm.Print_Area, _xlnm._FilterDatabase, ...)
    if not name:
        return "is empty"
    if len(name) > NAME_MAX:
        return f"is {len(name)} characters long (at most {NAME_MAX})"
    if not _NAME_CHARS.match(name):
        return "has a character Excel does not allow in a name (letters, digits, _ . \\ only; " \
               "it must start with a letter, _ or \\)"
    if name.upper() in ("TRUE", "FALSE"):
        return "is a logical value"
    m = _A1.match(name)
    if m and _column_number(m.group(1)) <= MAX_COLUMN and 1 <= int(m.group(2)) <= MAX_ROW:
        return "reads as a cell reference (A1 style)"
    if _R1C1.match(name):
        return "reads as a cell reference (R1C1 style)"
    return None


def sheet_name_problem(name: str) -> Optional[str]:
    """Why Excel refuses *name* as a sheet name (None: a valid name)."""
    if not name or not name.strip():
        return "is blank"
    if len(name) > SHEET_NAME_MAX:
        return f"is {len(name)} characters long (at most {SHEET_NAME_MAX})"
    bad = sorted(set(name) & _SHEET_FORBIDDEN)
    if bad:
        return f"contains {' '.join(bad)} (Excel forbids : \\ / ? * [ ] in sheet names)"
    if name.startswith("'") or name.endswith("'"):
        return "starts or ends with an apostrophe"
    if name.casefold() == "history":
        return "is History, a name Excel reserves"
    return None


class _Package:
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.names = [n for n in zf.namelist() if not n.endswith("/")]
        self.name_set = set(self.names)
        self.defects: list[Defect] = []
        self._xml: dict[str, Optional[Element]] = {}

    def add(self, part: str, where: str, rule: str, message: str) -> None:
        self.defects.append(Defect(part, where, rule, message))

    def xml(self, part: str) -> Optional[Element]:
        if part not in self._xml:
            try:
                self._xml[part] = SafeET.fromstring(self.zf.read(part))
            except (ParseError, KeyError, ValueError) as err:
                self._xml[part] = None
                self.add(part, "", "well-formed", f"not well-formed XML ({err})")
        return self._xml[part]

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """[(id, type, resolved target)] of the internal relationships of *part* ('' = package)."""
        folder, base = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", base + ".rels") if part else "_rels/.rels"
        if rels_part not in self.name_set:
            return []
        root = self.xml(rels_part)
        out = []
        for rel in (root if root is not None else ()):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out.append((rel.get("Id", ""), rel.get("Type", ""), resolved))
        return out


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels")) or name == "[Content_Types].xml"


def _content_types(pkg: _Package) -> None:
    root = pkg.xml("[Content_Types].xml") if "[Content_Types].xml" in pkg.name_set else None
    if root is None:
        pkg.add("[Content_Types].xml", "", "content-types", "missing")
        return
    defaults = {d.get("Extension", "").lower() for d in root.iter(f"{CT}Default")}
    overrides = {o.get("PartName", "").lstrip("/").lower() for o in root.iter(f"{CT}Override")}
    for name in pkg.names:
        if name == "[Content_Types].xml":
            continue
        ext = name.rsplit(".", 1)[-1].lower() if "." in posixpath.basename(name) else ""
        if name.lower() not in overrides and ext not in defaults:
            pkg.add(name, "", "content-types", "no Default or Override content type covers this part")
    lower = {n.lower() for n in pkg.names}
    for part in sorted(overrides - lower):
        pkg.add("[Content_Types].xml", f"/{part}", "content-types", "an Override names a part that "
                "does not exist")


def _relationships(pkg: _Package) -> None:
    for name in pkg.names:
        if not name.endswith(".rels"):
            continue
        folder, base = posixpath.split(name)
        if posixpath.basename(folder) != "_rels":
            pkg.add(name, "", "relationships", "a .rels part outside a _rels folder")
            continue
        source = posixpath.join(posixpath.dirname(folder), base[:-len(".rels")])
        if source and source not in pkg.name_set:
            pkg.add(name, "", "relationships", f"belongs to {source}, which does not exist")
            continue
        for rid, _type, target in pkg.rels(source):
            if target not in pkg.name_set:
                pkg.add(name, rid, "relationships", f"target {target} does not exist")


def _text(elem: Optional[Element]) -> str:
    return "" if elem is None else "".join(elem.itertext())


def _shared_strings(pkg: _Package, wb_part: str) -> list[str]:
    for _rid, rtype, target in pkg.rels(wb_part):
        if rtype.endswith("/sharedStrings") and target in pkg.name_set:
            root = pkg.xml(target)
            if root is not None:
                return [_text(si) for si in root.findall(f"{MAIN}si")]
    return []


def _style_count(pkg: _Package, wb_part: str) -> Optional[int]:
    for _rid, rtype, target in pkg.rels(wb_part):
        if rtype.endswith("/styles") and target in pkg.name_set:
            root = pkg.xml(target)
            xfs = root.find(f"{MAIN}cellXfs") if root is not None else None
            return len(xfs.findall(f"{MAIN}xf")) if xfs is not None else 0
    return None


def _cell_text(c: Element, shared: list[str]):
    t = c.get("t")
    if t == "inlineStr":
        return _text(c.find(f"{MAIN}is"))
    v = c.find(f"{MAIN}v")
    if v is None:
        return None
    if t == "s":
        try:
            return shared[int(v.text)]
        except (ValueError, IndexError, TypeError):
            return None
    return v.text


def _data_validations(pkg: _Package, part: str, sheet: str, root: Element) -> None:
    for dv in root.iter(f"{MAIN}dataValidation"):
        where = f"{sheet}!{dv.get('sqref', '?')}"
        for attr, limit in (("promptTitle", TITLE_MAX), ("errorTitle", TITLE_MAX),
                            ("prompt", MESSAGE_MAX), ("error", MESSAGE_MAX)):
            text = dv.get(attr)
            if text is not None and len(text) > limit:
                pkg.add(part, where, "data-validation-text",
                        f"{attr} is {len(text)} characters (Excel allows {limit}): {text!r}")
        for tag in ("formula1", "formula2"):
            f = dv.find(f"{MAIN}{tag}")
            if f is None or f.text is None:
                continue
            if len(f.text) > DV_FORMULA_MAX:
                pkg.add(part, where, "data-validation-formula",
                        f"{tag} is {len(f.text)} characters (Excel allows {DV_FORMULA_MAX})")
            if dv.get("type") == "list" and tag == "formula1":
                if f.text.startswith("="):
                    pkg.add(part, where, "data-validation-list",
                            f"list source {f.text!r} starts with '=' (Excel stores it without)")
        if not dv.get("sqref", "").strip():
            pkg.add(part, where, "data-validation-range", "a rule with no cells (empty sqref)")


def _cells(pkg: _Package, part: str, sheet: str, root: Element, styles: Optional[int]) -> None:
    for c in root.iter(f"{MAIN}c"):
        ref = c.get("r", "?")
        f = c.find(f"{MAIN}f")
        if f is not None and f.text and len(f.text) + 1 > FORMULA_MAX:
            pkg.add(part, f"{sheet}!{ref}", "cell-formula",
                    f"formula is {len(f.text) + 1} characters (Excel allows {FORMULA_MAX})")
        if c.get("t") in ("inlineStr", "str"):
            text = _text(c.find(f"{MAIN}is")) if c.get("t") == "inlineStr" else _text(c.find(f"{MAIN}v"))
            if len(text) > CELL_TEXT_MAX:
                pkg.add(part, f"{sheet}!{ref}", "cell-text",
                        f"text is {len(text)} characters (Excel allows {CELL_TEXT_MAX})")
        s = c.get("s")
        if styles is not None and s is not None and (not s.isdigit() or int(s) >= max(styles, 1)):
            pkg.add(part, f"{sheet}!{ref}", "cell-style", f"style index {s} is not in cellXfs "
                    f"({styles} styles)")


def _range_rows(ref: str) -> Optional[tuple[int, int, int, int]]:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)", ref or "")
    if not m:
        return None
    return (_column_number(m.group(1)), int(m.group(2)), _column_number(m.group(3)), int(m.group(4)))


def _tables(pkg: _Package, sheet_part: str, sheet: str, root: Element, shared: list[str],
            seen: dict) -> None:
    cells = None
    for _rid, rtype, target in pkg.rels(sheet_part):
        if not rtype.endswith("/table") or target not in pkg.name_set:
            continue
        table = pkg.xml(target)
        if table is None:
            continue
        name = table.get("displayName", "")
        problem = name_problem(name)
        if problem:
            pkg.add(target, name, "table-name", f"display name {name!r} {problem}")
        if name.casefold() in seen:
            pkg.add(target, name, "table-name", f"display name {name!r} is also used by "
                    f"{seen[name.casefold()]}")
        seen[name.casefold()] = target
        box = _range_rows(table.get("ref", ""))
        if box is None:
            pkg.add(target, name, "table-range", f"ref {table.get('ref')!r} is not a range")
            continue
        c1, r1, c2, r2 = box
        columns = [tc.get("name", "") for tc in table.iter(f"{MAIN}tableColumn")]
        if len(columns) != c2 - c1 + 1:
            pkg.add(target, name, "table-columns", f"{len(columns)} tableColumn entries for a "
                    f"{c2 - c1 + 1}-column range {table.get('ref')}")
        af = table.find(f"{MAIN}autoFilter")
        totals = int(table.get("totalsRowCount", "0") or 0)
        if af is not None:
            expected = (c1, r1, c2, r2 - totals)
            if _range_rows(af.get("ref", "")) != expected:
                pkg.add(target, name, "table-filter", f"autoFilter {af.get('ref')!r} does not "
                        f"cover the table {table.get('ref')}")
        if table.get("headerRowCount", "1") == "0":
            continue
        if cells is None:
            cells = {c.get("r"): _cell_text(c, shared) for c in root.iter(f"{MAIN}c")}
        for j, column in enumerate(columns):
            ref = f"{_column_letters(c1 + j)}{r1}"
            text = cells.get(ref)
            if text is None or str(text) != column:
                pkg.add(target, f"{sheet}!{ref}", "table-header",
                        f"header cell holds {text!r}, the table column is named {column!r}")


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _charts(pkg: _Package) -> None:
    for name in pkg.names:
        if not (name.startswith("xl/charts/chart") and name.endswith(".xml")):
            continue
        root = pkg.xml(name)
        if root is None:
            continue
        for i, scatter in enumerate(root.iter(f"{CHART}scatterChart"), start=1):
            if scatter.find(f"{CHART}scatterStyle") is None:
                pkg.add(name, f"scatterChart[{i}]", "chart-scatter-style",
                        "no <c:scatterStyle> (required by ISO/IEC 29500)")
        for kind in _AXES:
            for i, axis in enumerate(root.iter(f"{CHART}{kind}"), start=1):
                if axis.find(f"{CHART}delete") is None:
                    pkg.add(name, f"{kind}[{i}]", "chart-axis-delete",
                            "no <c:delete val=\"0\"/>: current Excel hides such an axis")


def _workbook(pkg: _Package) -> None:
    wb_part = next((t for _r, rtype, t in pkg.rels("") if rtype.endswith("/officeDocument")), None)
    if wb_part is None or wb_part not in pkg.name_set:
        pkg.add("_rels/.rels", "", "relationships", "no workbook part (officeDocument)")
        return
    root = pkg.xml(wb_part)
    if root is None:
        return
    sheets = root.findall(f"{MAIN}sheets/{MAIN}sheet")
    seen_sheets: dict[str, str] = {}
    for sheet in sheets:
        name = sheet.get("name", "")
        problem = sheet_name_problem(name)
        if problem:
            pkg.add(wb_part, name, "sheet-name", f"sheet name {name!r} {problem}")
        if name.casefold() in seen_sheets:
            pkg.add(wb_part, name, "sheet-name", f"sheet name {name!r} is used twice (ignoring case)")
        seen_sheets[name.casefold()] = name
    scopes: dict[tuple, str] = {}
    for dn in root.iter(f"{MAIN}definedName"):
        name = dn.get("name", "")
        problem = name_problem(name)
        if problem:
            pkg.add(wb_part, name, "defined-name", f"defined name {name!r} {problem}")
        key = (name.casefold(), dn.get("localSheetId"))
        if key in scopes:
            pkg.add(wb_part, name, "defined-name", f"defined name {name!r} is defined twice in "
                    "one scope")
        scopes[key] = name
    rels = {rid: target for rid, _t, target in pkg.rels(wb_part)}
    shared = _shared_strings(pkg, wb_part)
    styles = _style_count(pkg, wb_part)
    table_names: dict[str, str] = {}
    for sheet in sheets:
        part = rels.get(sheet.get(R_ID, ""))
        if part is None or part not in pkg.name_set:
            pkg.add(wb_part, sheet.get("name", ""), "relationships", "the sheet's part is missing")
            continue
        ws = pkg.xml(part)
        if ws is None or ws.tag != f"{MAIN}worksheet":
            continue
        name = sheet.get("name", "")
        _data_validations(pkg, part, name, ws)
        _cells(pkg, part, name, ws, styles)
        _tables(pkg, part, name, ws, shared, table_names)


def lint_zip(zf: zipfile.ZipFile) -> list[Defect]:
    """Every :class:`Defect` of the package open in *zf*."""
    pkg = _Package(zf)
    for name in pkg.names:
        if _is_xml(name):
            pkg.xml(name)          # well-formedness of every XML part, reported once
    _content_types(pkg)
    _relationships(pkg)
    _workbook(pkg)
    _charts(pkg)
    return pkg.defects


def lint_package(path) -> list[Defect]:
    """Every :class:`Defect` of the .xlsx/.xlsm package at *path* (empty: Excel's rules hold)."""
    with zipfile.ZipFile(Path(path)) as zf:
        return lint_zip(zf)


def summary(defects: Iterable[Defect]) -> dict[str, int]:
    """Defects counted by rule."""
    out: dict[str, int] = {}
    for d in defects:
        out[d.rule] = out.get(d.rule, 0) + 1
    return dict(sorted(out.items()))


def iter_lines(defects: Iterable[Defect]) -> Iterator[str]:
    for d in defects:
        yield str(d)
