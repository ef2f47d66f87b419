"""A workbook package as a graph of parts: relationships, the workbook part, streamed XML.

Shared by the gate (:mod:`tokencost.workbook.gate`), the inventory of what an
openpyxl round trip keeps (:mod:`tokencost.workbook.edit.inventory`) and the
restoring of parts a rewrite must not change.
"""
from __future__ import annotations

import posixpath
import zipfile
from typing import Optional
from xml.parsers import expat

from ..errors import WorkbookError

MiB = 1024 * 1024


R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DRAW_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def rels_path(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def parse_part(zf: zipfile.ZipFile, name: str, start=None, end=None, text=None) -> None:
    """Stream *name* through expat with namespace-qualified ``"ns local"`` tags."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def forbid(*_args):
        raise WorkbookError(f"part {name} declares a DOCTYPE or XML entities; refused")

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    with zf.open(name) as fh:
        while True:
            chunk = fh.read(1 * MiB)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break


def relationships(zf: zipfile.ZipFile, names: set, part: str) -> list:
    """[(rId, type, target part)] of *part*; external targets left out."""
    rels = rels_path(part) if part else "_rels/.rels"
    if rels not in names:
        return []
    out = []

    def start(tag, attrs):
        if tag.endswith(" Relationship") and attrs.get("TargetMode") != "External":
            out.append((attrs.get("Id"), attrs.get("Type", ""), resolve_target(part or "/", attrs.get("Target", ""))))

    parse_part(zf, rels, start=start)
    return out


def workbook_part(zf: zipfile.ZipFile) -> Optional[str]:
    names = set(zf.namelist())
    try:
        rels = relationships(zf, names, "")
    except (expat.ExpatError, WorkbookError, KeyError):
        return None
    for _rid, rtype, target in rels:
        if rtype.endswith("/officeDocument"):
            return target
    return None




# ---------------------------------------------------------------------------------------------
# charts: found from their sheet, and carried byte for byte through a rewrite
# ---------------------------------------------------------------------------------------------

def sheet_names_by_id(zf: zipfile.ZipFile, wb_part: str) -> dict:
    """{relationship id: sheet name} of the workbook part *wb_part*."""
    out = {}

    def start(tag, attrs):
        if tag == f"{MAIN_NS} sheet":
            out[attrs.get(f"{R_NS} id")] = attrs.get("name", "?")

    parse_part(zf, wb_part, start=start)
    return out


def sheet_parts_by_name(zf: zipfile.ZipFile) -> dict:
    """{sheet name: worksheet or chartsheet part} of the package."""
    names = set(zf.namelist())
    wb = workbook_part(zf)
    if wb is None or wb not in names:
        return {}
    ids = sheet_names_by_id(zf, wb)
    return {ids[rid]: target for rid, _type, target in relationships(zf, names, wb) if rid in ids}


def sheet_charts(zf: zipfile.ZipFile, sheet_part: str) -> list:
    """The chart parts anchored on *sheet_part*'s drawing, in the drawing's anchor order."""
    names = set(zf.namelist())
    out = []
    for _rid, rtype, drawing in relationships(zf, names, sheet_part):
        if not rtype.endswith("/drawing") or drawing not in names:
            continue
        targets = {rid: t for rid, rt, t in relationships(zf, names, drawing) if rt.endswith("/chart")}

        def start(tag, attrs):
            if tag == f"{CHART_URI} chart":
                rid = attrs.get(f"{R_NS} id")
                if rid in targets:
                    out.append(targets[rid])

        parse_part(zf, drawing, start=start)
    return out


def _content_types(zf: zipfile.ZipFile) -> tuple[dict, dict]:
    """({extension: type}, {part: type}) of [Content_Types].xml."""
    defaults, overrides = {}, {}

    def start(tag, attrs):
        if tag.endswith(" Default"):
            defaults[attrs.get("Extension", "").lower()] = attrs.get("ContentType", "")
        elif tag.endswith(" Override"):
            overrides[attrs.get("PartName", "").lstrip("/")] = attrs.get("ContentType", "")

    parse_part(zf, "[Content_Types].xml", start=start)
    return defaults, overrides


def restore_charts(before: bytes, after: bytes, sheets: Optional[set] = None) -> tuple[bytes, int]:
    """*after* (a package openpyxl wrote from *before*) with every chart of the sheets both
    hold (or of *sheets* only) given back its bytes from *before*, with the parts its
    relationships name (chart styles and colours, shapes drawn on it, pictures).

    openpyxl rebuilds a chart from its object model and drops what it has no model for
    (``c:style``, rounded corners, a LibreOffice plot-area fill, extensions, chart style
    parts); a chart the command did not mean to change is restored whole. Charts are
    matched by sheet name and anchor order, and only where the sheet holds as many charts
    in both packages. Returns the new package and the number of charts restored.
    """
    import io
    import re
    from xml.sax.saxutils import escape
    with zipfile.ZipFile(io.BytesIO(before)) as zb, zipfile.ZipFile(io.BytesIO(after)) as za:
        b_sheets, a_sheets = sheet_parts_by_name(zb), sheet_parts_by_name(za)
        b_names, a_names = set(zb.namelist()), set(za.namelist())
        b_defaults, b_overrides = _content_types(zb)
        a_defaults, a_overrides = _content_types(za)
        replace, added, types = {}, {}, {}
        restored = 0
        for sheet, a_part in a_sheets.items():
            if sheets is not None and sheet not in sheets or sheet not in b_sheets:
                continue
            b_charts, a_charts = sheet_charts(zb, b_sheets[sheet]), sheet_charts(za, a_part)
            if len(b_charts) != len(a_charts):
                continue
            for b_chart, a_chart in zip(b_charts, a_charts):
                replace[a_chart] = zb.read(b_chart)
                restored += 1
                b_rels, a_rels = rels_path(b_chart), rels_path(a_chart)
                if b_rels not in b_names:
                    if a_rels in a_names:
                        replace[a_rels] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                           b'<Relationships xmlns="http://schemas.openxmlformats.org/'
                                           b'package/2006/relationships"/>')
                    continue
                rels = zb.read(b_rels).decode("utf-8")
                for rid, _rtype, target in relationships(zb, b_names, b_chart):
                    if target not in b_names:
                        continue
                    new = target
                    n = 1
                    while new in a_names or new in added:
                        stem, dot, ext = target.rpartition(".")
                        new = f"{stem}_tc{n}.{ext}" if dot else f"{target}_tc{n}"
                        n += 1
                    added[new] = zb.read(target)
                    ext = new.rsplit(".", 1)[-1].lower()
                    ctype = b_overrides.get(target) or b_defaults.get(target.rsplit(".", 1)[-1].lower())
                    if ctype and a_defaults.get(ext) != ctype:
                        types[new] = ctype
                    if new != target:
                        old_name, new_name = target.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]
                        rels = re.sub(rf'(Id="{re.escape(rid)}"[^>]*Target="[^"]*?){re.escape(old_name)}"',
                                      rf'\g<1>{new_name}"', rels)
                        rels = re.sub(rf'(Target="[^"]*?){re.escape(old_name)}("[^>]*Id="{re.escape(rid)}")',
                                      rf'\g<1>{new_name}\2', rels)
                replace[a_rels] = rels.encode("utf-8")
        if not restored:
            return after, 0
        content_types = za.read("[Content_Types].xml").decode("utf-8")
        if types:
            extra = "".join(f'<Override PartName="/{escape(p)}" ContentType="{escape(t)}"/>'
                            for p, t in sorted(types.items()) if p not in a_overrides)
            content_types = content_types.replace("</Types>", extra + "</Types>")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for info in za.infolist():
                if info.filename == "[Content_Types].xml":
                    out.writestr(info, content_types.encode("utf-8"))
                else:
                    out.writestr(info, replace.get(info.filename, za.read(info.filename)))
            for name in sorted(set(replace) - a_names):
                out.writestr(name, replace[name])
            for name, data in sorted(added.items()):
                out.writestr(name, data)
    return buffer.getvalue(), restored
