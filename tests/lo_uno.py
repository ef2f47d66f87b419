"""Drive LibreOffice Calc through its own API (Python-UNO), as an analyst's office suite would.

Run with the Python that has LibreOffice's ``uno`` module (Debian's
``/usr/bin/python3`` with ``python3-uno``), not the project's virtual
environment: ``python3 tests/lo_uno.py < steps.json`` prints a JSON list with
one result per step. Tests call it through :func:`workbook_helpers.uno`.

Steps (JSON objects, ``op`` names the action):

``{"op": "open", "path": P}``                  load a document (hidden, macros never run)
``{"op": "set", "sheet": S, "cell": "B8", "value": V}``   a number or a text, typed
``{"op": "formula", "sheet": S, "cell": "B8", "formula": "=A1*2"}``
``{"op": "get", "sheet": S, "cell": "B8"}``    -> the cell's value (number or text)
``{"op": "basic_modules"}``                    -> {library: {module: source}} of the document
``{"op": "sheets"}``                           -> the sheet names
``{"op": "row_heights", "sheet": S}``          -> [[row, stored pt, optimal pt, column widths...]]
                                                for every row up to the last used one: the
                                                height in the file and the height LibreOffice
                                                needs for the row's text (OptimalHeight)
``{"op": "add_chart", "sheet": S, "name": N, "range": "A1:B5", "series": True}``
                                                a chart LibreOffice makes on S (``series``
                                                false: its data series removed, an empty chart)
``{"op": "charts"}``                           -> {sheet: [{"title", "categories", "series",
                                                "values"}]}: the data each chart draws
``{"op": "save", "path": P, "filter": F}``     store (F e.g. "Calc MS Excel 2007 XML",
                                                "Calc MS Excel 2007 VBA XML")
``{"op": "close"}``

Each run starts its own soffice with a fresh profile and ends it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import uno  # noqa: E402  (LibreOffice's Python bridge)
from com.sun.star.beans import PropertyValue  # noqa: E402


def _props(**kw):
    out = []
    for k, v in kw.items():
        p = PropertyValue()
        p.Name, p.Value = k, v
        out.append(p)
    return tuple(out)


def _connect(pipe: str, proc, timeout_s: float = 60):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + timeout_s
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.25)


def _cell(doc, sheet, ref):
    return doc.Sheets.getByName(sheet).getCellRangeByName(ref)


def main() -> int:
    steps = json.load(sys.stdin)
    results = []
    with tempfile.TemporaryDirectory(prefix="tokencost-uno-") as profile:
        pipe = f"tokencost_{uuid.uuid4().hex}"
        env = dict(os.environ, HOME=profile)
        proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             "--nolockcheck", f"-env:UserInstallation={Path(profile).as_uri()}",
             f"--accept=pipe,name={pipe};urp;"], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        doc = None
        try:
            ctx = _connect(pipe, proc)
            desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            for step in steps:
                op = step["op"]
                if op == "open":
                    url = uno.systemPathToFileUrl(str(Path(step["path"]).resolve()))
                    doc = desktop.loadComponentFromURL(url, "_blank", 0, _props(
                        Hidden=True, MacroExecutionMode=0))
                    results.append(doc is not None)
                elif op == "set":
                    cell = _cell(doc, step["sheet"], step["cell"])
                    if isinstance(step["value"], str):
                        cell.setString(step["value"])
                    else:
                        cell.setValue(step["value"])
                    results.append(True)
                elif op == "formula":
                    _cell(doc, step["sheet"], step["cell"]).setFormula(step["formula"])
                    results.append(True)
                elif op == "get":
                    cell = _cell(doc, step["sheet"], step["cell"])
                    kind = cell.getType().value
                    results.append(cell.getValue() if kind == "VALUE" or (
                        kind == "FORMULA" and not cell.getString()) else cell.getString())
                elif op == "basic_modules":
                    libs = doc.BasicLibraries
                    out = {}
                    for name in libs.getElementNames():
                        libs.loadLibrary(name)
                        lib = libs.getByName(name)
                        out[name] = {m: lib.getByName(m) for m in lib.getElementNames()}
                    results.append(out)
                elif op == "row_heights":
                    sheet = doc.Sheets.getByName(step["sheet"])
                    cursor = sheet.createCursor()
                    cursor.gotoEndOfUsedArea(False)
                    last = cursor.getRangeAddress().EndRow
                    rows = sheet.getRows()
                    out = []
                    for r in range(last + 1):
                        row = rows.getByIndex(r)
                        stored = row.Height
                        row.OptimalHeight = True
                        out.append([r + 1, stored / 2540 * 72, row.Height / 2540 * 72])
                    results.append(out)
                elif op == "add_chart":
                    from com.sun.star.awt import Rectangle
                    sheet = doc.Sheets.getByName(step["sheet"])
                    address = sheet.getCellRangeByName(step["range"]).getRangeAddress()
                    rect = Rectangle()
                    rect.X, rect.Y, rect.Width, rect.Height = 1000, 1000, 12000, 7000
                    charts = sheet.getCharts()
                    charts.addNewByName(step["name"], rect, (address,), True, True)
                    if not step.get("series", True):
                        diagram = charts.getByName(step["name"]).getEmbeddedObject().getFirstDiagram()
                        for system in diagram.getCoordinateSystems():
                            for kind in system.getChartTypes():
                                for series in list(kind.getDataSeries()):
                                    kind.removeDataSeries(series)
                    results.append(True)
                elif op == "charts":
                    out = {}
                    for name in doc.Sheets.getElementNames():
                        charts = doc.Sheets.getByName(name).getCharts()
                        for i in range(charts.getCount()):
                            chart = charts.getByIndex(i).getEmbeddedObject()
                            data = chart.getData()
                            title = chart.getTitle().String if chart.HasMainTitle else ""
                            out.setdefault(name, []).append({
                                "title": title,
                                "categories": list(data.getRowDescriptions()),
                                "series": list(data.getColumnDescriptions()),
                                "values": [list(r) for r in data.getData()]})
                    results.append(out)
                elif op == "sheets":
                    results.append(list(doc.Sheets.getElementNames()))
                elif op == "save":
                    url = uno.systemPathToFileUrl(str(Path(step["path"]).resolve()))
                    doc.storeToURL(url, _props(FilterName=step["filter"], Overwrite=True))
                    results.append(True)
                elif op == "close":
                    doc.close(True)
                    doc = None
                    results.append(True)
                else:
                    raise ValueError(f"unknown step {op!r}")
            if doc is not None:
                doc.close(True)
            try:
                desktop.terminate()
            except Exception:
                pass
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
