"""Helpers for the workbook tests: read cells, edit tables as an analyst would."""
from __future__ import annotations

import re
import zipfile

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries, get_column_letter

from tokencost.workbook.cached import sheet_parts


def formula_cells(path):
    """{(sheet, coordinate): formula} for every formula cell."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    out[(ws.title, cell.coordinate)] = cell.value
    return out


def cached_values(path):
    """{(sheet, coordinate): cached value} as a reader without a calc engine sees them."""
    wb = load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows()
            for c in row}


def formula_cells_without_value(path):
    """Formula cells whose XML has no <v> element (no cached value at all)."""
    missing = []
    with zipfile.ZipFile(path) as zf:
        for sheet, part in sheet_parts(zf).items():
            xml = zf.read(part).decode()
            for m in re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', xml, re.S):
                body = m.group(3) or ""
                if "<f" not in body:
                    continue
                # no <v>, or an empty one (<v/>, or <v></v> as lxml writes it) on a cell that
                # is not of a text type (only a text result can be empty)
                value = re.search(r"<v(?:\s[^>]*)?>(.*?)</v>", body, re.S)
                if value is None or (value.group(1) == "" and 't="str"' not in m.group(2)):
                    missing.append((sheet, m.group(1)))
    return missing


def close(a, b, rel=1e-9):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= rel * max(1.0, abs(a), abs(b))
    if a in ("", None) and b in ("", None):
        return True
    return a == b


def table_of(wb, name):
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    raise KeyError(name)


def append_table_row(wb, table_name, values: dict):
    """Add a row under an Excel Table and grow the table, as Excel does when an analyst
    types in the row below it. Returns the new row number."""
    ws, table = table_of(wb, table_name)
    c1, r1, c2, r2 = range_boundaries(table.ref)
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    new = r2 + 1
    for j, header in enumerate(headers):
        if header in values:
            ws.cell(new, c1 + j, values[header])
        ws.cell(new, c1 + j)._style = ws.cell(r2, c1 + j)._style
    table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{new}"
    if table.autoFilter is not None:
        table.autoFilter.ref = table.ref
    return new


def set_table_value(wb, table_name, key_column, key, column, value):
    ws, table = table_of(wb, table_name)
    c1, r1, c2, r2 = range_boundaries(table.ref)
    headers = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
    for r in range(r1 + 1, r2 + 1):
        if ws.cell(r, headers[key_column]).value == key:
            ws.cell(r, headers[column]).value = value
            return ws.cell(r, headers[column]).coordinate
    raise KeyError(key)


UNO_PYTHON = "/usr/bin/python3"   # Debian's Python, with LibreOffice's uno module (python3-uno)


def uno(steps, timeout_s: float = 300):
    """Run *steps* (see tests/lo_uno.py) in LibreOffice through its own API; their results."""
    import json
    import subprocess
    from pathlib import Path
    script = Path(__file__).with_name("lo_uno.py")
    proc = subprocess.run([UNO_PYTHON, str(script)], input=json.dumps(steps), text=True,
                          capture_output=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"LibreOffice (UNO) failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def recalculate_many(sources, out_dir, timeout_s: float = 600):
    """``{source: recalculated .xlsx}`` for every workbook in *sources*, recalculated by
    one LibreOffice run (a start of LibreOffice costs seconds; a file more, about one),
    with the isolated recalculate-on-load profile of tokencost.workbook.libreoffice."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path
    from tokencost.workbook.libreoffice import _RECALC_ALWAYS, soffice_path
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [Path(s).resolve() for s in sources]
    with tempfile.TemporaryDirectory(prefix="tokencost-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        cmd = [soffice_path(), "--headless", "--norestore", "--nologo", "--nodefault",
               "--nolockcheck", f"-env:UserInstallation={Path(profile).as_uri()}",
               "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir),
               *map(str, sources)]
        subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                       env=dict(os.environ, HOME=profile), stdin=subprocess.DEVNULL, check=True)
    out = {s: out_dir / f"{s.stem}.xlsx" for s in sources}
    missing = [s.name for s, o in out.items() if not o.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not convert {missing}")
    return out
