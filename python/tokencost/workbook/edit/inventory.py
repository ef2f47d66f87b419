"""What an openpyxl round trip keeps of a workbook, and what it would lose.

``check_in_place(path) -> Report``
    Call before rewriting a workbook with openpyxl. Does the round trip in
    memory (load as :func:`rewrite_in_place` would, save to a buffer, nothing
    written to disk) and compares what the two packages contain: the parts an
    analyst can add, found by walking the package's relationships (pivot
    tables and caches, slicers, timelines, threaded comments, form and ActiveX
    controls, embedded objects, custom XML, chart styles, external links,
    data connections, the ribbon customisation, ...), the objects on every
    drawing (pictures, shapes and text boxes, groups, connectors, SmartArt,
    Excel 2010+ objects), each worksheet's features (data validation and
    conditional-formatting rules, hyperlinks, merged cells, protection, page
    breaks, and Excel 2010+ extensions such as sparklines, x14 data validation
    and x14 conditional formats), each chart's elements, defined names, named
    styles, comments, rich-text runs and the VBA project's bytes. Anything
    present before and missing after raises ``WorkbookError("BOOK: writing it
    in place would lose 1 shape or text box on sheet 'Notes', 1 pivot table on
    sheet 'Pivot'; nothing was changed. ...")``. Returns the report (empty when
    nothing would be lost) when ``raise_on_loss=False``.

"""
from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from xml.parsers import expat

from ...errors import WorkbookError
from ..gate import check_readable
from ..package import (CHART_URI, parse_part, relationships, restore_charts,
                       sheet_charts, sheet_names_by_id, workbook_part)

#: what a relationship type is, in words (the last segment of the type URI). Types not here
#: and not in _CONTAINERS are named by their segment.
_LABELS = {
    "pivotTable": "pivot table", "pivotCacheDefinition": "pivot cache",
    "pivotCacheRecords": "pivot cache records", "slicer": "slicer", "slicerCache": "slicer cache",
    "timeline": "timeline", "timelineCache": "timeline cache",
    "threadedComment": "threaded comments part", "person": "threaded-comment people list",
    "chart": "chart", "chartUserShapes": "shape drawn on a chart", "chartStyle": "chart style part",
    "chartColorStyle": "chart colour style part", "image": "picture file", "hdphoto": "picture file",
    "ctrlProp": "form control", "control": "ActiveX control",
    "activeXControlBinary": "ActiveX control data", "oleObject": "embedded (OLE) object",
    "package": "embedded document", "customXml": "custom XML part",
    "customXmlProps": "custom XML properties", "externalLink": "external workbook link",
    "connections": "data connection", "queryTable": "query table", "table": "Excel table",
    "vbaProject": "VBA project", "vbaProjectSignature": "VBA signature",
    "vbaProjectSignatureAgile": "VBA signature", "vbaProjectSignatureV3": "VBA signature",
    "extensibility": "ribbon customisation (customUI)", "sheetMetadata": "cell metadata",
    "rdRichValue": "rich data value", "rdRichValueStructure": "rich data value",
    "rdArray": "rich data value", "rdSupportingPropertyBag": "rich data value",
    "rdSupportingPropertyBagStructure": "rich data value", "richValueRel": "rich data value",
    "webextension": "Office add-in", "webextensiontaskpanes": "Office add-in task pane",
    "model": "data model (Power Pivot)", "revisionHeaders": "tracked changes",
    "usernames": "shared-workbook user list", "volatileDependencies": "volatile dependencies",
    "dialogsheet": "dialog sheet", "xlMacrosheet": "Excel 4.0 macro sheet",
    "xlIntlMacrosheet": "Excel 4.0 macro sheet", "diagramData": "SmartArt",
    "diagramLayout": "SmartArt layout", "diagramQuickStyle": "SmartArt style",
    "diagramColors": "SmartArt colours", "diagramDrawing": "SmartArt drawing",
    "printerSettings": "printer settings", "custom-properties": "custom document properties",
    "origin": "digital signature", "signature": "digital signature",
    "namedSheetView": "sheet view", "featurePropertyBag": "feature property bag",
    "attachedToolbars": "attached toolbars", "chartEx": "Excel 2016 chart",
}

#: parts whose loss is either no loss (a cache Excel rebuilds; openpyxl writes its own) or is
#: counted inside them (sheets, drawings, comments, VML)
_CONTAINERS = {
    "officeDocument", "worksheet", "chartsheet", "drawing", "vmlDrawing", "comments",
    "sharedStrings", "styles", "theme", "calcChain", "core-properties", "metadata",
    "extended-properties", "thumbnail", "custom-properties",
}

_SHEET_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet", "/xlMacrosheet", "/xlIntlMacrosheet")


# ---------------------------------------------------------------------------------------------
# inventory: what a package holds, by (where, what)
# ---------------------------------------------------------------------------------------------

#: worksheet children counted one by one (tag local name -> words)
_SHEET_COUNTED = {
    "cfRule": "conditional-formatting rule", "dataValidation": "data-validation rule",
    "hyperlink": "hyperlink", "mergeCell": "merged range", "brk": "page break",
    "protectedRange": "protected range", "scenario": "what-if scenario",
    "customSheetView": "custom view", "cellWatch": "cell watch", "ignoredError": "ignored-error rule",
    "oleObject": "embedded (OLE) object", "control": "control", "webPublishItem": "web publish item",
    "cellSmartTags": "smart tag", "sortState": "sort state", "dataConsolidate": "data consolidation",
}

#: top-level worksheet elements whose presence matters (local name -> words)
_SHEET_PRESENT = {
    "sheetProtection": "sheet protection", "autoFilter": "autofilter",
    "printOptions": "print options", "pageSetup": "page setup",
    "legacyDrawingHF": "header/footer picture", "picture": "background picture",
    "phoneticPr": "phonetic settings", "sheetCalcPr": "sheet calculation setting",
    "customProperties": "custom sheet properties", "smartTags": "smart tags",
}

#: Excel 2010+ extension URIs (upper case) -> words
_EXT_LABELS = {
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": "Excel 2010 conditional format (x14)",
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "Excel 2010 data validation (x14)",
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "sparkline group",
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "slicer list",
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "slicer list",
    "{FC87AEE6-9EDD-4A0A-B7FB-166176984837}": "protected range (x14)",
    "{01252117-D84E-4E92-8308-4BE1C098FCBB}": "ignored error (x14)",
    "{F7C9EE02-42E1-4005-9D12-6889AFFD525C}": "Office add-in",
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "timeline",
    "{BBE1A952-AA13-448E-AADC-164F8A28A991}": "slicer cache list",
    "{46BE6895-7355-4A93-B00E-2C351335B9C9}": "slicer cache list",
    "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}": "timeline cache list",
    "{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}": "data model",
    "{876F7934-8845-4945-9796-88D515C7AA90}": "pivot cache list (x14)",
    "{841E416B-1EF1-43B6-AB56-02D37102CBD5}": "pivot cache list (x15)",
    "{983426D0-5260-488C-9760-48F4B6AC55F4}": "pivot table reference",
    "{E67621CE-5B39-4880-91FE-76760E9C1902}": "named sheet view",
}

#: extensions whose items are counted one by one (sparklines, x14 rules) rather than as a whole
_EXT_COUNTED_INSIDE = {"{78C0D931-6437-407D-A8EE-F0AAD7539E65}", "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}",
                       "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}"}

#: what openpyxl drops that changes nothing an analyst sees or made, with the reason; never a
#: reason to refuse, but always reported (``Report.harmless``)
HARMLESS = {
    "printer settings": "the printer driver's own settings; the page setup itself (paper, "
                        "orientation, margins, scaling, print area) is kept in the sheet",
    "chart style part": "the Chart Styles gallery entry; the chart's own formatting is in the chart",
    "chart colour style part": "the Change Colors gallery entry; the chart's own colours are in "
                               "the chart",
}

#: extension URIs that carry no analyst content (Excel's own bookkeeping)
_EXT_BENIGN = {
    "{140A7094-0E35-4892-8432-C4D2E57EDB9E}",  # x15:workbookPr chartTrackingRefBase
    "{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}",  # xcalcf:calcFeatures
    "{C3380CC4-5D6E-409C-BE32-E72D297353CC}",  # c16:uniqueId of a chart series
    "{63B3BB69-23CF-44E3-9099-C40C66FF867C}",  # a14:compatExt (drawing compatibility)
    "{FF2B5EF4-FFF2-40B4-BE49-F238E27FC236}",  # a16:creationId of a drawing object
    "{C183D7F6-B498-43B3-948B-1728B52AA6E4}",  # adec:decorative flag
    "{56B9EC1D-385E-4148-901F-78D8002777C0}",  # c16r3:dataDisplayOptions16
    "{EB79DEF2-80B8-43E5-95BD-54CBDDF9020C}",  # x14:slicerStyles defaults in styles.xml
    "{9260A510-F301-46A8-8635-F512D64BE5F5}",  # x15:timelineStyles defaults in styles.xml
    "{7626C862-2A13-11E5-B345-FEFF819CDC9F}",  # LibreOffice's loext:extCalcPr (formula syntax)
}

#: chart elements that carry no analyst formatting (or that openpyxl rewrites under another name)
#: chart elements not counted: the series' cached values (they follow the cells they read)
_CHART_CACHES = {"numCache", "strCache", "multiLvlStrCache"}


@dataclass
class Report:
    """What a rewrite would lose: ``lost`` maps (where, what) to a count; ``harmless`` the
    same for what openpyxl drops that nobody made or sees (:data:`HARMLESS`)."""
    lost: Counter = field(default_factory=Counter)
    harmless: Counter = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.lost)

    def lines(self) -> list:
        """One phrase per lost item, e.g. ``1 shape or text box on sheet 'Notes'``."""
        return self._lines(self.lost)

    def harmless_lines(self) -> list:
        return [f"{line} ({HARMLESS[what]})"
                for line, (_where, what) in zip(self._lines(self.harmless), sorted(self.harmless))]

    @staticmethod
    def _lines(counter) -> list:
        out = []
        for (where, what), n in sorted(counter.items()):
            place = "" if where == "workbook" else f" on sheet '{where}'"
            if what.startswith("=") or what.startswith("'"):
                out.append(f"{what[1:] if what.startswith('=') else what}{place}")
            else:
                out.append(f"{n} {what}{place}")
        return out

    def summary(self, limit: int = 6) -> str:
        lines = self.lines()
        text = ", ".join(lines[:limit])
        if len(lines) > limit:
            text += f" and {len(lines) - limit} more"
        return text


def inventory(source) -> Counter:
    """Count what a workbook package holds that an analyst could have made, as
    ``Counter({(where, what): n})``; *where* is a sheet name or ``"workbook"``."""
    zf = source if isinstance(source, zipfile.ZipFile) else zipfile.ZipFile(source)
    names = set(zf.namelist())
    inv: Counter = Counter()
    wb_part = workbook_part(zf)
    if wb_part is None or wb_part not in names:
        return inv
    sheets = sheet_names_by_id(zf, wb_part)
    seen = set()
    # walk the relationship graph from the workbook; every part remembers the sheet it hangs off
    stack = [(wb_part, "workbook", "officeDocument")]
    for _rid, rtype, target in relationships(zf, names, ""):
        if not rtype.endswith("/officeDocument"):
            stack.append((target, "workbook", rtype.rsplit("/", 1)[-1]))
    sheet_of_part = {}
    while stack:
        part, where, kind = stack.pop()
        if part in seen or part not in names:
            continue
        seen.add(part)
        if kind not in _CONTAINERS:
            inv[(where, _LABELS.get(kind, f"{kind} part"))] += 1
        for rid, rtype, target in relationships(zf, names, part):
            child_kind = rtype.rsplit("/", 1)[-1]
            child_where = where
            if part == wb_part and rtype.endswith(_SHEET_TYPES):
                child_where = sheets.get(rid, target)
                sheet_of_part[target] = child_where
            stack.append((target, child_where, child_kind))
    for part, sheet in sheet_of_part.items():
        inv[(sheet, "=the sheet itself")] += 1
        if part.startswith("xl/worksheets/"):
            _worksheet_features(zf, part, sheet, inv)
        for _rid, rtype, target in relationships(zf, names, part):
            if rtype.endswith("/drawing") and target in names:
                _drawing_objects(zf, names, target, sheet, inv)
        for i, chart in enumerate(sheet_charts(zf, part), start=1):   # in anchor order
            if chart in names:
                _chart_elements(zf, chart, sheet, i, inv)
        for _rid, rtype, target in relationships(zf, names, part):
            if rtype.endswith("/comments") and target in names:
                _count(zf, target, {"comment": "comment"}, sheet, inv)
    _workbook_features(zf, wb_part, inv)
    for _rid, rtype, target in relationships(zf, names, ""):
        if rtype.endswith("/custom-properties") and target in names:
            def prop(tag, attrs):
                if _local(tag) == "property":
                    inv[("workbook", f"=custom document property '{attrs.get('name', '?')}'")] += 1
            parse_part(zf, target, start=prop)
    for _rid, rtype, target in relationships(zf, names, wb_part):
        if rtype.endswith("/styles") and target in names:
            _named_styles(zf, target, inv)
        elif rtype.endswith("/sharedStrings") and target in names:
            _count(zf, target, {"r": "rich-text run in a cell"}, "workbook", inv)
        elif rtype.endswith("/vbaProject") and target in names:
            digest = hashlib.sha256(zf.read(target)).hexdigest()[:12]
            inv[("workbook", f"=the VBA project's exact bytes (sha256 {digest})")] += 1
    return inv


def _local(tag: str) -> str:
    return tag.rsplit(" ", 1)[-1]


def _count(zf, part, tags: dict, where, inv) -> None:
    def start(tag, _attrs):
        label = tags.get(_local(tag))
        if label:
            inv[(where, label)] += 1

    parse_part(zf, part, start=start)


def _ext_label(uri: str) -> Optional[str]:
    uri = (uri or "").upper()
    if uri in _EXT_BENIGN:
        return None
    return _EXT_LABELS.get(uri, f"Excel extension {uri}")


def _worksheet_features(zf, part, sheet, inv) -> None:
    depth = [0]
    in_ext = [0]
    header = [0]   # 0 outside <headerFooter>, 1 inside, 2 in one header, 3 one has text

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if local == "r" and depth[0] > 3:    # a run of an inline rich-text string (c/is/r)
            inv[("workbook", "rich-text run in a cell")] += 1
        if depth[0] == 3 and header[0] == 1 and local.endswith(("Header", "Footer")):
            header[0] = 2
        if depth[0] == 2:
            if local == "headerFooter":
                header[0] = 1
            label = _SHEET_PRESENT.get(local)
            if label:
                inv[(sheet, label)] += 1
            if local == "extLst":
                in_ext[0] = 1
        elif in_ext[0] and depth[0] == 3 and local == "ext":
            label = _ext_label(attrs.get("uri"))
            if label and (attrs.get("uri") or "").upper() not in _EXT_COUNTED_INSIDE:
                inv[(sheet, label)] += 1
        label = _SHEET_COUNTED.get(local)
        if label and not in_ext[0]:
            inv[(sheet, label)] += 1
        elif in_ext[0] and local in ("sparkline", "cfRule", "dataValidation"):
            inv[(sheet, {"sparkline": "sparkline",
                         "cfRule": "Excel 2010 (x14) conditional-formatting rule or setting",
                         "dataValidation": "Excel 2010 (x14) data-validation rule"}[local])] += 1

    def text(data):
        if header[0] == 2 and data.strip():
            header[0] = 3

    def end(tag):
        if depth[0] == 2 and _local(tag) == "extLst":
            in_ext[0] = 0
        if depth[0] == 2 and _local(tag) == "headerFooter":
            if header[0] == 3:    # an empty header/footer is no header (openpyxl leaves it out)
                inv[(sheet, "header/footer")] += 1
            header[0] = 0
        if depth[0] == 3 and header[0] == 2:
            header[0] = 1
        depth[0] -= 1

    parse_part(zf, part, start=start, end=end, text=text)


_DRAWING_OBJECTS = {"sp": "shape or text box", "pic": "picture", "grpSp": "group of shapes",
                    "cxnSp": "connector line", "contentPart": "ink drawing"}
_GRAPHIC_URIS = {
    "http://schemas.openxmlformats.org/drawingml/2006/diagram": "SmartArt graphic",
    "http://schemas.microsoft.com/office/drawing/2010/slicer": "slicer",
    "http://schemas.microsoft.com/office/drawing/2012/timeslicer": "timeline",
    "http://schemas.microsoft.com/office/drawing/2014/chartex": "Excel 2016 chart",
    "http://schemas.openxmlformats.org/drawingml/2006/table": "drawing table",
}


def _drawing_objects(zf, names, part, sheet, inv) -> None:
    """Count the objects anchored on a drawing (the first object of each anchor)."""
    depth = [0]
    pending = [None]   # the anchor being read: None, or a dict(kind=..., uri=...)

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if depth[0] == 2:
            pending[0] = {"kind": None, "uri": None, "alt": local == "AlternateContent"}
        elif pending[0] is not None:
            obj = pending[0]
            if obj["kind"] is None and local in (*_DRAWING_OBJECTS, "graphicFrame"):
                obj["kind"] = local
            if local == "graphicData" and obj["uri"] is None:
                obj["uri"] = attrs.get("uri")

    def end(tag):
        if depth[0] == 2 and pending[0] is not None:
            obj = pending[0]
            pending[0] = None
            if obj["kind"] == "graphicFrame" or obj["uri"]:
                if obj["uri"] != CHART_URI:   # charts are counted as chart parts
                    inv[(sheet, _GRAPHIC_URIS.get(obj["uri"], f"drawing object {obj['uri']}"))] += 1
            elif obj["kind"]:
                inv[(sheet, _DRAWING_OBJECTS[obj["kind"]])] += 1
            elif obj["alt"]:
                inv[(sheet, "Excel 2010+ drawing object")] += 1
        depth[0] -= 1

    parse_part(zf, part, start=start, end=end)


def _chart_elements(zf, chart: str, sheet: str, index: int, inv) -> None:
    """Every element of a chart, with its path and attributes, as one inventory item each
    (the series' cached values aside: they follow the cells): a chart an edit carries
    through unchanged has the same items after it, so any formatting lost is named."""
    path: list = []
    skip = [0]

    def start(tag, attrs):
        local = _local(tag)
        path.append(local)
        if skip[0] or local in _CHART_CACHES:
            skip[0] += 1
            return
        shown = ",".join(f"{k.rsplit(' ', 1)[-1]}={v}" for k, v in sorted(attrs.items()))
        key = "/".join(path[1:]) + (f"[{shown}]" if shown else "")
        inv[(sheet, f"=chart {index}: formatting <{key}>")] += 1

    def end(tag):
        path.pop()
        if skip[0]:
            skip[0] -= 1

    parse_part(zf, chart, start=start, end=end)


def _workbook_features(zf, wb_part, inv) -> None:
    depth = [0]
    in_ext = [0]
    names = []
    current = []
    sheets = []   # sheet names in workbook order: a local name's localSheetId indexes them

    def start(tag, attrs):
        depth[0] += 1
        local = _local(tag)
        if local == "sheet" and depth[0] == 3:
            sheets.append(attrs.get("name", "?"))
        if depth[0] == 2 and local == "extLst":
            in_ext[0] = 1
        elif in_ext[0] and depth[0] == 3 and local == "ext":
            label = _ext_label(attrs.get("uri"))
            if label:
                inv[("workbook", label)] += 1
        elif depth[0] == 2 and local in ("workbookProtection", "fileSharing", "customWorkbookViews",
                                         "functionGroups", "webPublishObjects", "smartTagPr"):
            inv[("workbook", {"workbookProtection": "workbook protection",
                              "fileSharing": "file-sharing (write reservation) setting",
                              "customWorkbookViews": "custom views",
                              "functionGroups": "function groups",
                              "webPublishObjects": "web publish objects",
                              "smartTagPr": "smart-tag settings"}[local])] += 1
        elif local == "definedName":
            current.append((attrs.get("name", "?"), attrs.get("localSheetId")))

    def text(data):
        pass

    def end(tag):
        if depth[0] == 2 and _local(tag) == "extLst":
            in_ext[0] = 0
        if _local(tag) == "definedName" and current:
            names.append(current.pop())
        depth[0] -= 1

    parse_part(zf, wb_part, start=start, end=end, text=text)
    for name, local_sheet in names:
        if name.startswith("_xlnm._FilterDatabase"):
            continue   # Excel's own bookkeeping for an autofilter (counted with the autofilter)
        scope = ""
        if local_sheet is not None:   # named by its sheet: an edit that adds a sheet moves ids
            index = int(local_sheet) if str(local_sheet).isdigit() else -1
            scope = f" (sheet '{sheets[index]}')" if 0 <= index < len(sheets) else \
                f" (sheet #{local_sheet})"
        inv[("workbook", f"=defined name {name}{scope}")] += 1


def _named_styles(zf, part, inv) -> None:
    def start(tag, attrs):
        if _local(tag) == "cellStyle":
            inv[("workbook", f"=named cell style '{attrs.get('name', '?')}'")] = 1

    parse_part(zf, part, start=start)


def compare(before: Counter, after: Counter) -> Report:
    """What *before* holds that *after* lacks."""
    report = Report()
    for key, n in before.items():
        missing = n - after.get(key, 0)
        if missing > 0:
            (report.harmless if key[1] in HARMLESS else report.lost)[key] = missing
    return report




# ---------------------------------------------------------------------------------------------
# the round trip
# ---------------------------------------------------------------------------------------------

#: the names openpyxl opens (it decides the package type by the file name)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")


def require_workbook_suffix(path) -> None:
    """Refuse a workbook name openpyxl cannot open (a ``BOOK.xlsm.bak`` backup, no suffix)."""
    path = Path(path)
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise WorkbookError(f"{path}: tokencost changes .xlsx/.xlsm files only (the name "
                            f"decides the file type); copy it to a .xlsm or .xlsx name first")


def load_for_rewrite(data: bytes, path: Path):
    """*data* (the bytes of workbook *path*) loaded with openpyxl as every rewrite loads it:
    VBA kept for a macro-enabled name, links and rich text kept. A package openpyxl cannot
    read (it raises many kinds of errors) is one line naming *path*."""
    from openpyxl import load_workbook
    keep_vba = Path(path).suffix.lower() in (".xlsm", ".xltm")

    def load(blob):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # openpyxl warns about what it drops; we report it
            wb = load_workbook(io.BytesIO(blob), keep_vba=keep_vba, keep_links=True,
                               rich_text=True)
        return _savable_twice(wb)

    try:
        return load(data)
    except WorkbookError:
        raise
    except Exception as err:
        # a chart openpyxl cannot read (LibreOffice saves an empty chart with no series,
        # which openpyxl 3.1 fails on): load a copy in which such charts are stand-ins;
        # the rewrite gives every chart its own bytes back (restore_charts)
        stand_ins, n = _chart_stand_ins(data)
        if n:
            try:
                return load(stand_ins)
            except Exception:
                pass
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise WorkbookError(f"{path}: openpyxl cannot read this workbook ({type(err).__name__}: "
                            f"{first[:200]}); nothing was changed") from None


def _savable_twice(wb):
    """*wb* with every picture's bytes read once and kept: openpyxl 3.1.5 closes a picture's
    file when it first saves it, so the round-trip check's save to memory would leave the
    real write a closed file (``Image._data``)."""
    for ws in wb.worksheets:
        for image in getattr(ws, "_images", ()):
            data = image._data()
            image._data = lambda data=data: data
    return wb


#: a chart openpyxl can read, standing in for one it cannot while a workbook is edited
_STAND_IN_CHART = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart><c:plotArea>'
    '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:ser><c:idx val="0"/>'
    '<c:order val="0"/><c:val><c:numLit><c:ptCount val="1"/><c:pt idx="0"><c:v>0</c:v></c:pt>'
    '</c:numLit></c:val></c:ser><c:axId val="1"/><c:axId val="2"/></c:barChart>'
    '<c:catAx><c:axId val="1"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="b"/><c:crossAx val="2"/></c:catAx>'
    '<c:valAx><c:axId val="2"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    '<c:delete val="0"/><c:axPos val="l"/><c:crossAx val="1"/></c:valAx>'
    '</c:plotArea></c:chart></c:chartSpace>').encode("utf-8")


def _chart_stand_ins(data: bytes) -> tuple[bytes, int]:
    """*data* with every chart part that holds no data series replaced by a stand-in."""
    out = io.BytesIO()
    n = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            blob = zin.read(info)
            name = info.filename
            if name.startswith("xl/charts/chart") and name.endswith(".xml") and b":ser>" not in blob \
                    and b"<ser>" not in blob:
                blob, n = _STAND_IN_CHART, n + 1
            zout.writestr(info, blob)
    return out.getvalue(), n


def save_to_bytes(wb) -> bytes:
    """The package openpyxl writes for *wb*."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.save(buffer)
    return buffer.getvalue()


def rewritten_package(before: bytes, wb) -> bytes:
    """What a rewrite writes: openpyxl's package for *wb*, each chart the edit did not
    touch given back its exact bytes from *before* (:func:`restore_charts`)."""
    return restore_charts(before, save_to_bytes(wb))[0]


def round_trip_report(before: bytes, wb, path) -> Report:
    """What rewriting *before* (loaded as *wb*, not yet edited) would lose."""
    after = rewritten_package(before, wb)
    with zipfile.ZipFile(io.BytesIO(before)) as b, zipfile.ZipFile(io.BytesIO(after)) as a:
        try:
            held = inventory(b)
        except expat.ExpatError as err:
            raise WorkbookError(f"{path}: a part is not well-formed XML ({err})") from None
        return compare(held, inventory(a))


def check_in_place(path, *, raise_on_loss: bool = True, **readable_limits) -> Report:
    """Refuse to rewrite *path* in place when an openpyxl round trip would lose anything.

    Runs :func:`tokencost.workbook.gate.check_readable` first (keyword arguments are its
    limits), then loads the workbook, writes it to memory as a rewrite would and compares
    the two packages.

    Returns
    -------
    Report
        Empty (falsy) when nothing would be lost; with ``raise_on_loss=False``
        the losses, otherwise :class:`WorkbookError` is raised on any loss.
    """
    path = Path(path)
    check_readable(path, **readable_limits)
    data = path.read_bytes()
    report = round_trip_report(data, load_for_rewrite(data, path), path)
    if report and raise_on_loss:
        raise loss_error(path, report)
    return report


def loss_error(path: Path, report: Report) -> WorkbookError:
    return WorkbookError(
        f"{path}: writing it in place would lose {report.summary()}; nothing was changed. "
        f"Write the result to a new file with --output NEW{path.suffix} ({path.name} stays as "
        "it is; NEW will not contain those), or remove them from the workbook first")
