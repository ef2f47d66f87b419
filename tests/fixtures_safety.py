"""Build the workbooks the safety tests need: an analyst's copy of tokencost.xlsm with their
own sheet, copies with parts openpyxl cannot carry (injected into the zip by hand, as Excel
writes them), and hostile or broken files.

Every builder takes a source path and writes a new file; none changes its source.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Optional

from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
from openpyxl.styles import Border, Font, NamedStyle, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "tokencost.xlsm"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
OUTPUTS = "Outputs"     # the sheet of tokencost.xlsm that holds charts
ANALYST = "Analyst"


def png_bytes(width=40, height=20) -> bytes:
    """A small PNG made with Pillow (a matplotlib dependency, so in the test extra)."""
    from PIL import Image as PILImage
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# an analyst's copy: everything openpyxl can carry
# ---------------------------------------------------------------------------------------------

def analyst_workbook(target: Path, source: Path = BOOK) -> Path:
    """tokencost.xlsm plus a sheet 'Analyst' with the things an analyst adds: styles (direct and
    a named style), comments, data validation, conditional formatting, a named range, a merged
    range, a hyperlink, rich text, a bar chart and a picture."""
    wb = load_workbook(source, keep_vba=True, keep_links=True, rich_text=True)
    ws = wb.create_sheet(ANALYST)
    ws["A1"] = "My notes"
    ws["A1"].font = Font(bold=True, size=14, color="FF0000")
    ws["A1"].fill = PatternFill("solid", fgColor="FFFF99")
    ws["A1"].border = Border(bottom=Side(style="thick", color="000000"))
    ws["A1"].comment = Comment("Check these with finance", "Analyst")
    note = NamedStyle(name="analyst_note", font=Font(italic=True, color="336699"))
    wb.add_named_style(note)
    ws["A2"] = "scenario rate"
    ws["A2"].style = "analyst_note"
    ws["B2"] = 0.07
    ws["B2"].number_format = "0.0%"
    ws["B2"].comment = Comment("Discount rate agreed on 3 May", "Analyst")
    wb.defined_names["Analyst_Rate"] = DefinedName("Analyst_Rate", attr_text=f"{ANALYST}!$B$2")
    dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                        showErrorMessage=True, error="a rate between 0 and 1")
    ws.add_data_validation(dv)
    dv.add("B2")
    pick = DataValidation(type="list", formula1='"low,base,high"', allow_blank=False)
    ws.add_data_validation(pick)
    pick.add("B3")
    ws["B3"] = "base"
    for row in range(5, 10):
        ws.cell(row=row, column=1, value=f"item {row - 4}")
        ws.cell(row=row, column=2, value=(row - 4) * 10)
    ws.conditional_formatting.add("B5:B9", CellIsRule(operator="greaterThan", formula=["30"],
                                                      fill=PatternFill("solid", bgColor="FFC7CE")))
    ws.conditional_formatting.add("B5:B9", ColorScaleRule(start_type="min", start_color="FFFFFF",
                                                          end_type="max", end_color="63BE7B"))
    ws.conditional_formatting.add("C5:C9", DataBarRule(start_type="min", end_type="max",
                                                       color="638EC6"))
    ws.merge_cells("D1:F1")
    ws["D1"] = "merged heading"
    ws["D2"] = "seed post"
    ws["D2"].hyperlink = "https://example.com/seed"
    ws["A11"] = CellRichText(["plain then ", TextBlock(InlineFont(b=True, color="C00000"), "bold red")])
    chart = BarChart()
    chart.title = "Analyst items"
    chart.add_data(Reference(ws, min_col=2, min_row=5, max_row=9), titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=1, min_row=5, max_row=9))
    ws.add_chart(chart, "H2")
    picture = Image(io.BytesIO(png_bytes()))
    ws.add_image(picture, "H20")
    wb.save(target)
    return Path(target)


# ---------------------------------------------------------------------------------------------
# zip surgery
# ---------------------------------------------------------------------------------------------

def edit_zip(source: Path, target: Path, replace=None, add=None, compression=zipfile.ZIP_DEFLATED):
    """Copy *source* to *target*, replacing entries (``{name: bytes or f(old bytes) -> bytes}``)
    and adding new ones (``{name: bytes}``)."""
    replace, add = dict(replace or {}), dict(add or {})
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", compression) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in replace:
                new = replace.pop(info.filename)
                data = new(data) if callable(new) else new
            zout.writestr(info.filename, data)
        for name, data in {**replace, **add}.items():
            zout.writestr(name, data)
    return Path(target)


def _override(part: str, content_type: str):
    def edit(types: bytes) -> bytes:
        entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        return types.replace(b"</Types>", entry.encode() + b"</Types>")
    return edit


def _chain(*edits):
    def edit(data: bytes) -> bytes:
        for e in edits:
            data = e(data)
        return data
    return edit


def _add_rel(rel_id: str, rel_type: str, target: str):
    def edit(rels: bytes) -> bytes:
        entry = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"/>'
        return rels.replace(b"</Relationships>", entry.encode() + b"</Relationships>")
    return edit


def _rels(*entries) -> bytes:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">{body}</Relationships>'.encode()


def _insert_before(marker: bytes, text: str):
    def edit(data: bytes) -> bytes:
        assert marker in data, marker
        return data.replace(marker, text.encode() + marker, 1)
    return edit


def _append_to_sheet(fragment: str, namespaces: str = ""):
    """Add *fragment* just before </worksheet> (where an extLst goes)."""
    def edit(data: bytes) -> bytes:
        data = data.replace(b"</worksheet>", fragment.encode() + b"</worksheet>")
        if namespaces:
            data = data.replace(b"<worksheet ", f"<worksheet {namespaces} ".encode(), 1)
        return data
    return edit


# ---------------------------------------------------------------------------------------------
# parts openpyxl cannot carry (and one it can)
# ---------------------------------------------------------------------------------------------

TEXT_BOX_ANCHOR = f"""<twoCellAnchor xmlns:a="{A}"><from><col>1</col><colOff>0</colOff><row>80</row><rowOff>0</rowOff></from><to><col>5</col><colOff>0</colOff><row>85</row><rowOff>0</rowOff></to><sp macro="" textlink=""><nvSpPr><cNvPr id="7" name="TextBox 7"/><cNvSpPr txBox="1"/></nvSpPr><spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="3000000" cy="900000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="FFF2CC"/></a:solidFill></spPr><txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US"/><a:t>Reviewed by finance, 3 May</a:t></a:r></a:p></txBody></sp><clientData/></twoCellAnchor>"""

GROUP_ANCHOR = f"""<twoCellAnchor xmlns:a="{A}"><from><col>1</col><colOff>0</colOff><row>90</row><rowOff>0</rowOff></from><to><col>5</col><colOff>0</colOff><row>95</row><rowOff>0</rowOff></to><grpSp><nvGrpSpPr><cNvPr id="9" name="Group 9"/><cNvGrpSpPr/></nvGrpSpPr><grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="100" cy="100"/><a:chOff x="0" y="0"/><a:chExt cx="100" cy="100"/></a:xfrm></grpSpPr><sp macro="" textlink=""><nvSpPr><cNvPr id="10" name="Oval 10"/><cNvSpPr/></nvSpPr><spPr><a:prstGeom prst="ellipse"><a:avLst/></a:prstGeom></spPr></sp><cxnSp macro=""><nvCxnSpPr><cNvPr id="11" name="Arrow 11"/><cNvCxnSpPr/></nvCxnSpPr><spPr><a:prstGeom prst="straightConnector1"><a:avLst/></a:prstGeom></spPr></cxnSp></grpSp><clientData/></twoCellAnchor>"""


def with_text_box(source: Path, target: Path, anchors: str = TEXT_BOX_ANCHOR) -> Path:
    """A text box (``xdr:sp`` with ``txBox="1"``) added to the Outputs sheet's drawing, beside
    its charts, as Excel writes it."""
    drawing = outputs_parts(source)["drawing"]
    return edit_zip(source, target, replace={drawing: _insert_before(b"</wsDr>", anchors)})


def with_group_of_shapes(source: Path, target: Path) -> Path:
    return with_text_box(source, target, anchors=GROUP_ANCHOR)


PIVOT_CACHE = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<pivotCacheDefinition xmlns="{MAIN}" xmlns:r="{REL}" r:id="rId1" refreshOnLoad="1" createdVersion="6" refreshedVersion="6" minRefreshableVersion="3" recordCount="2"><cacheSource type="worksheet"><worksheetSource ref="A5:B7" sheet="{ANALYST}"/></cacheSource><cacheFields count="2"><cacheField name="item" numFmtId="0"><sharedItems count="2"><s v="item 1"/><s v="item 2"/></sharedItems></cacheField><cacheField name="value" numFmtId="0"><sharedItems containsSemiMixedTypes="0" containsString="0" containsNumber="1" containsInteger="1" minValue="10" maxValue="20"/></cacheField></cacheFields></pivotCacheDefinition>"""

PIVOT_RECORDS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<pivotCacheRecords xmlns="{MAIN}" count="2"><r><x v="0"/><n v="10"/></r><r><x v="1"/><n v="20"/></r></pivotCacheRecords>"""

PIVOT_TABLE = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<pivotTableDefinition xmlns="{MAIN}" name="AnalystPivot" cacheId="7" applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" applyPatternFormats="0" applyAlignmentFormats="0" applyWidthHeightFormats="1" dataCaption="Values" updatedVersion="6" minRefreshableVersion="3" createdVersion="6" indent="0" outline="1" outlineData="1"><location ref="K30:L33" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/><pivotFields count="2"><pivotField axis="axisRow" showAll="0"><items count="3"><item x="0"/><item x="1"/><item t="default"/></items></pivotField><pivotField dataField="1" showAll="0"/></pivotFields><rowFields count="1"><field x="0"/></rowFields><rowItems count="3"><i><x/></i><i><x v="1"/></i><i t="grand"><x/></i></rowItems><colItems count="1"><i/></colItems><dataFields count="1"><dataField name="Sum of value" fld="1" baseField="0" baseItem="0"/></dataFields></pivotTableDefinition>"""

CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _sheet_part(source: Path, sheet_name: str) -> str:
    with zipfile.ZipFile(source) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet_name)}"[^>]*r:id="(\w+)"', workbook).group(1)
    target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    if target is None:
        target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    return target.group(1).lstrip("/") if target.group(1).startswith("/") else "xl/" + target.group(1)


def outputs_parts(source: Path) -> dict:
    """The Outputs sheet's part, its relationships part, its drawing and its first chart."""
    sheet = _sheet_part(source, OUTPUTS)
    rels = f"{os.path.dirname(sheet)}/_rels/{os.path.basename(sheet)}.rels"
    with zipfile.ZipFile(source) as zf:
        drawing_target = re.search(rb'Target="([^"]+drawing\d+\.xml)"', zf.read(rels)).group(1).decode()
        drawing = _resolve(sheet, drawing_target)
        drawing_rels = f"{os.path.dirname(drawing)}/_rels/{os.path.basename(drawing)}.rels"
        charts = re.findall(rb'Target="([^"]+chart\d+\.xml)"', zf.read(drawing_rels))
    chart = _resolve(drawing, charts[0].decode())
    return {"sheet": sheet, "rels": rels, "drawing": drawing, "chart": chart}


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return os.path.normpath(os.path.join(os.path.dirname(source), target)).replace(os.sep, "/")


def with_pivot_table(source: Path, target: Path) -> Path:
    """A pivot table on the Analyst sheet of an :func:`analyst_workbook`, with its cache and
    records, written as Excel writes them (workbook ``<pivotCaches>``, relationships, types)."""
    sheet = _sheet_part(source, ANALYST)
    sheet_rels = f"{os.path.dirname(sheet)}/_rels/{os.path.basename(sheet)}.rels"
    base = f"{REL}/"
    return edit_zip(source, target, replace={
        "[Content_Types].xml": _chain(
            _override("xl/pivotCache/pivotCacheDefinition9.xml", f"{CT}.pivotCacheDefinition+xml"),
            _override("xl/pivotCache/pivotCacheRecords9.xml", f"{CT}.pivotCacheRecords+xml"),
            _override("xl/pivotTables/pivotTable9.xml", f"{CT}.pivotTable+xml")),
        "xl/workbook.xml": lambda x: re.sub(
            rb"(<calcPr[^>]*/>)", b'\\1<pivotCaches><pivotCache cacheId="7" r:id="rIdPivot"/></pivotCaches>', x),
        "xl/_rels/workbook.xml.rels": _add_rel("rIdPivot", base + "pivotCacheDefinition",
                                               "pivotCache/pivotCacheDefinition9.xml"),
        sheet_rels: _add_rel("rIdPivotTable", base + "pivotTable", "../pivotTables/pivotTable9.xml"),
    }, add={
        "xl/pivotCache/pivotCacheDefinition9.xml": PIVOT_CACHE.encode(),
        "xl/pivotCache/_rels/pivotCacheDefinition9.xml.rels": _rels(
            ("rId1", base + "pivotCacheRecords", "pivotCacheRecords9.xml")),
        "xl/pivotCache/pivotCacheRecords9.xml": PIVOT_RECORDS.encode(),
        "xl/pivotTables/pivotTable9.xml": PIVOT_TABLE.encode(),
        "xl/pivotTables/_rels/pivotTable9.xml.rels": _rels(
            ("rId1", base + "pivotCacheDefinition", "../pivotCache/pivotCacheDefinition9.xml")),
    })


X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


def with_sparklines(source: Path, target: Path) -> Path:
    """A sparkline group (an Excel 2010 ``x14`` extension in the sheet's extLst)."""
    ext = (f'<extLst><ext uri="{{05C60535-1F16-4fd2-B633-F4F36F0B64E0}}" xmlns:x14="{X14}">'
           f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap">'
           '<x14:colorSeries rgb="FF376092"/><x14:sparklines><x14:sparkline><xm:f>Outputs!B5:F5</xm:f>'
           '<xm:sqref>G5</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>'
           '</x14:sparklineGroups></ext></extLst>')
    return edit_zip(source, target, replace={outputs_parts(source)["sheet"]: _append_to_sheet(ext)})


def with_x14_validation(source: Path, target: Path) -> Path:
    """A list validation pointing at another sheet, stored as Excel 2010 writes it (x14)."""
    ext = (f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
           f'<x14:dataValidations count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" '
           'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1>'
           '<xm:f>Hardware!$A$6:$A$15</xm:f></x14:formula1><xm:sqref>B3</xm:sqref>'
           '</x14:dataValidation></x14:dataValidations></ext></extLst>')
    return edit_zip(source, target, replace={outputs_parts(source)["sheet"]: _append_to_sheet(ext)})


def with_threaded_comment(source: Path, target: Path) -> Path:
    """A threaded comment (Excel 365) on Outputs!B5, with its people list."""
    tc_ns = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
    person = "{8D6C2A55-3F0B-4A8C-9E0E-1D9C4F3E2B10}"
    sheet_rels = outputs_parts(source)["rels"]
    return edit_zip(source, target, replace={
        "[Content_Types].xml": _chain(
            _override("xl/threadedComments/threadedComment1.xml",
                      "application/vnd.ms-excel.threadedcomments+xml"),
            _override("xl/persons/person.xml", "application/vnd.ms-excel.person+xml")),
        sheet_rels: _add_rel("rIdTc", "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
                             "../threadedComments/threadedComment1.xml"),
        "xl/_rels/workbook.xml.rels": _add_rel(
            "rIdPerson", "http://schemas.microsoft.com/office/2017/10/relationships/person",
            "persons/person.xml"),
    }, add={
        "xl/threadedComments/threadedComment1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ThreadedComments xmlns="{tc_ns}">'
            f'<threadedComment ref="B5" dT="2024-05-03T10:00:00.00" personId="{person}" '
            'id="{0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0}"><text>Is this the list price?</text>'
            '</threadedComment></ThreadedComments>').encode(),
        "xl/persons/person.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><personList xmlns="{tc_ns}">'
            f'<person displayName="Analyst" id="{person}" userId="analyst" providerId="None"/>'
            '</personList>').encode(),
    })


def with_chart_style(source: Path, target: Path) -> Path:
    """The chart style and colour parts Excel 2013+ writes beside every chart it makes
    (here: beside the first chart on Outputs)."""
    chart = outputs_parts(source)["chart"]
    cs = "http://schemas.microsoft.com/office/drawing/2012/chartStyle"
    rels = f"{os.path.dirname(chart)}/_rels/{os.path.basename(chart)}.rels"
    return edit_zip(source, target, replace={
        "[Content_Types].xml": _chain(
            _override("xl/charts/style1.xml", "application/vnd.ms-office.chartstyle+xml"),
            _override("xl/charts/colors1.xml", "application/vnd.ms-office.chartcolorstyle+xml")),
    }, add={
        rels: _rels(("rId1", "http://schemas.microsoft.com/office/2011/relationships/chartStyle", "style1.xml"),
                    ("rId2", "http://schemas.microsoft.com/office/2011/relationships/chartColorStyle", "colors1.xml")),
        "xl/charts/style1.xml": f'<?xml version="1.0" encoding="UTF-8"?><cs:chartStyle xmlns:cs="{cs}" xmlns:a="{A}" id="201"/>'.encode(),
        "xl/charts/colors1.xml": f'<?xml version="1.0" encoding="UTF-8"?><cs:colorStyle xmlns:cs="{cs}" xmlns:a="{A}" meth="cycle" id="10"><a:schemeClr val="accent1"/></cs:colorStyle>'.encode(),
    })


def with_custom_xml(source: Path, target: Path) -> Path:
    """A custom XML data part (document-management metadata, e.g. SharePoint), as Excel keeps it."""
    return edit_zip(source, target, replace={
        "[Content_Types].xml": _override("customXml/itemProps1.xml",
                                         "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"),
        "xl/_rels/workbook.xml.rels": _add_rel(
            "rIdCx", f"{REL}/customXml", "../customXml/item1.xml"),
    }, add={
        "customXml/item1.xml": b'<?xml version="1.0" encoding="UTF-8"?><review xmlns="urn:example:review"><status>approved</status></review>',
        "customXml/itemProps1.xml": b'<?xml version="1.0" encoding="UTF-8"?><ds:datastoreItem ds:itemID="{6E8A3E2B-1C4D-4F5E-8A9B-0C1D2E3F4A5B}" xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>',
        "customXml/_rels/item1.xml.rels": _rels(("rId1", f"{REL}/customXmlProps", "itemProps1.xml")),
    })


def with_printer_settings(source: Path, target: Path) -> Path:
    """The printer-driver blob Excel stores when a sheet's page setup names a printer."""
    return edit_zip(source, target, replace={
        "[Content_Types].xml": lambda t: t.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"/></Types>') if b'Extension="bin"' not in t else t,
        outputs_parts(source)["rels"]: _add_rel("rIdPs", f"{REL}/printerSettings",
                                                        "../printerSettings/printerSettings1.bin"),
    }, add={"xl/printerSettings/printerSettings1.bin": b"\x00" * 220})


# ---------------------------------------------------------------------------------------------
# hostile and broken files
# ---------------------------------------------------------------------------------------------

def text_file(target: Path) -> Path:
    Path(target).write_text("gpu,price\nH100,2.0\n")
    return Path(target)


def old_xls(target: Path) -> Path:
    """The first bytes of an OLE2 compound file: an .xls, or any password-protected workbook."""
    Path(target).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return Path(target)


def truncated(source: Path, target: Path, keep: float = 0.6) -> Path:
    data = Path(source).read_bytes()
    Path(target).write_bytes(data[: int(len(data) * keep)])
    return Path(target)


def corrupt_entry(source: Path, target: Path, part: str = "xl/workbook.xml") -> Path:
    """The zip directory intact, one entry's compressed bytes garbled (a damaged download)."""
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(part)
    data = bytearray(Path(source).read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start, start + min(info.compress_size, 64)):
        data[i] ^= 0x5A
    Path(target).write_bytes(bytes(data))
    return Path(target)


def zip_bomb(source: Path, target: Path, size: int = 32 * 1024 * 1024) -> Path:
    """tokencost.xlsm plus one entry of *size* zero bytes (deflate shrinks it about 1000 times)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        with zout.open("xl/media/image1.png", "w", force_zip64=True) as fh:
            block = bytes(1024 * 1024)
            for _ in range(size // len(block)):
                fh.write(block)
    return Path(target)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def entity_bomb(source: Path, target: Path, part: str = "xl/workbook.xml") -> Path:
    """The "billion laughs": nested entities that expand to 3 GB when a parser resolves them,
    declared in *part* and used in a sheet name."""
    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
        xml = xml.replace(b'name="Cover"', b'name="&lol9;"', 1)
        return BILLION_LAUGHS.encode() + xml
    return edit_zip(source, target, replace={part: edit})


def external_entity(source: Path, target: Path, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """An external entity (XXE) that would read a local file into a cell."""
    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
        return (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                + xml)
    return edit_zip(source, target, replace={part: edit})


def word_document(target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("_rels/.rels", _rels(("rId1", f"{REL}/officeDocument", "word/document.xml")))
        zf.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>')
    return Path(target)


def large_workbook(source: Path, target: Path, megabytes: int = 50) -> Path:
    """tokencost.xlsm plus an incompressible (random) picture file of *megabytes*, stored:
    a 50 MB workbook built in well under a second."""
    shutil.copyfile(source, target)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_STORED) as zf:
        with zf.open("xl/media/photo.jpeg", "w", force_zip64=True) as fh:
            for _ in range(megabytes):
                fh.write(os.urandom(1024 * 1024))
    return Path(target)


def renamed_input_sheet(source: Path, target: Path, old: str = "Hardware", new: str = "GPUs") -> Path:
    wb = load_workbook(source, keep_vba=True)
    wb[old].title = new
    wb.save(target)
    return Path(target)


def deleted_input_sheet(source: Path, target: Path, name: str = "Prices") -> Path:
    wb = load_workbook(source, keep_vba=True)
    del wb[name]
    wb.save(target)
    return Path(target)


C15 = "http://schemas.microsoft.com/office/drawing/2012/chart"


def with_chart_label_range(source: Path, target: Path) -> Path:
    """Data labels taken from a range of cells ("Value From Cells", Excel 2013), stored as a c15
    extension of the first series: chart formatting openpyxl's chart model does not hold."""
    ext = (f'<extLst><ext uri="{{02D57815-91ED-43cb-92C2-25804820EDAC}}" xmlns:c15="{C15}">'
           "<c15:datalabelsRange><c15:f>Outputs!$A$8:$A$17</c15:f></c15:datalabelsRange>"
           "</ext></extLst>")
    chart = outputs_parts(source)["chart"]
    return edit_zip(source, target, replace={chart: _insert_before(b"</ser>", ext)})


# ---------------------------------------------------------------------------------------------
# entries zipfile's name lookup does not see, and XML parts not named .xml
# ---------------------------------------------------------------------------------------------

def duplicate_entry(source: Path, target: Path, part: str = "xl/worksheets/sheet2.xml",
                    first: Optional[bytes] = None, name: Optional[str] = None) -> Path:
    """*source* with a second entry for *part*: an entry named *name* (default: *part* itself)
    holding *first* (default: the part with a billion-laughs DOCTYPE) is written before the
    real one. zipfile's lookup by name returns the last entry of a name, so a reader that
    checks by name never sees the first; other zip readers take the first, or treat names
    that differ only by case, a leading '/' or a backslash as the same part."""
    with zipfile.ZipFile(source) as zin:
        original = zin.read(part)
    if first is None:
        first = BILLION_LAUGHS.encode() + re.sub(rb"^<\?xml[^>]*\?>\s*", b"", original)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # zipfile warns "Duplicate name"; that is the point
            for info in zin.infolist():
                if info.filename == part:
                    zout.writestr(name or part, first)
                zout.writestr(info.filename, zin.read(info.filename))
    return Path(target)


def doctype_part(source: Path, target: Path, name: str, encoding: str = "utf-8",
                 content_type: Optional[str] = None) -> Path:
    """*source* plus an entry *name* holding a billion-laughs DOCTYPE in *encoding*
    (``utf-8``, ``utf-16`` with a BOM, ``utf-16-le``/``utf-16-be`` without), optionally
    declared in [Content_Types].xml with *content_type*."""
    xml = BILLION_LAUGHS + "<data>&lol9;</data>"
    if encoding != "utf-8":
        xml = xml.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    replace = {}
    if content_type is not None:
        replace["[Content_Types].xml"] = _override(name, content_type)
    return edit_zip(source, target, replace=replace, add={name: xml.encode(encoding)})
