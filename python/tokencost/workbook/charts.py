"""Native charts of the rows in use, in Excel and in LibreOffice.

A chart reads a slots block, whose rows beyond the input tables' length are
empty slots. Plotting the whole block draws every empty slot as a category
("H10 / 0", labels squeezed into a corner), so each series refers to a
defined name that ends at the last row in use::

    Chart_Out_Prices_Rows  = MAX(1,SUM(Calc!$B$40:$B$59))          (the slots in use)
    Chart_Out_Prices_model = Outputs!$A$40:INDEX(Outputs!$A$40:$A$59,Chart_Out_Prices_Rows)

and the series formula is ``[0]!Chart_Out_Prices_model`` (``[0]`` is the
workbook itself, as Excel writes a workbook-level name in a chart). Excel
follows the name: a row an analyst adds to the Prices table appears in the
chart. LibreOffice 7.4 does not resolve names in chart series; it draws the
series' cached values (``numCache``/``strCache``), which tokencost writes with
the rows in use and refreshes whenever it stores cached values
(:func:`refresh_chart_caches`, called by
:func:`tokencost.workbook.cached.inject_cached_values`: a build, ``recalc``,
an edit).
"""
from __future__ import annotations

import re
from typing import Callable, Optional
from xml.sax.saxutils import escape

from openpyxl.chart import BarChart, LineChart, ScatterChart
from openpyxl.chart.data_source import (AxDataSource, NumData, NumDataSource, NumRef, NumVal,
                                        StrData, StrRef, StrVal)
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.series import Series, SeriesLabel
from openpyxl.utils import column_index_from_string, get_column_letter

from .spec import Chart

_COUNT = re.compile(r"^MAX\(1,SUM\((?P<range>[^()]+)\)\)$")
_RANGE = re.compile(r"^(?P<first>(?P<sheet>'(?:[^']|'')+'|[^'!:]+)!\$(?P<col>[A-Z]{1,3})\$(?P<row>\d+)):"
                    r"INDEX\((?P=first):\$(?P<col2>[A-Z]{1,3})\$(?P<row2>\d+),(?P<count>[A-Za-z_][\w.]*)\)$")
_CELLS = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^'!:]+)!\$(?P<c1>[A-Z]{1,3})\$(?P<r1>\d+):"
                    r"\$(?P<c2>[A-Z]{1,3})\$(?P<r2>\d+)$")


def _unquote(sheet: str) -> str:
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def rows_in_use(count_text: str, value_of: Callable[[str, str], object]) -> Optional[int]:
    """The value of a rows name (``MAX(1,SUM(Sheet!$B$7:$B$16))``) from cell values."""
    m = _COUNT.match(count_text.lstrip("="))
    cells = _CELLS.match(m.group("range")) if m else None
    if cells is None:
        return None
    sheet = _unquote(cells.group("sheet"))
    if cells.group("c1") == cells.group("c2"):            # a column of flags (a slots block)
        col = cells.group("c1")
        coordinates = [f"{col}{r}" for r in range(int(cells.group("r1")), int(cells.group("r2")) + 1)]
    elif cells.group("r1") == cells.group("r2"):          # a row of flags (a timeline block)
        row = cells.group("r1")
        coordinates = [f"{get_column_letter(c)}{row}" for c in range(
            column_index_from_string(cells.group("c1")), column_index_from_string(cells.group("c2")) + 1)]
    else:
        return None
    total = sum(v for ref in coordinates if _is_number(v := value_of(sheet, ref)))
    return max(1, int(round(total)))


def name_values(name: str, names: dict, value_of) -> Optional[list]:
    """The values a chart name (as :func:`add_chart` defines them) covers, or None when
    *name* is not of that form (an analyst's own name: its cache is left alone)."""
    m = _RANGE.match(names.get(name.casefold(), "").lstrip("="))
    if m is None:
        return None
    count = rows_in_use(names.get(m.group("count").casefold(), ""), value_of)
    if count is None:
        return None
    sheet, col, first = _unquote(m.group("sheet")), m.group("col"), int(m.group("row"))
    # never more points than the name's range holds, whatever the flags' cells say (a
    # count past the range is #REF! in INDEX; the cache keeps the range's own cells)
    if m.group("row2") == m.group("row") and m.group("col2") != col:   # a row (time across)
        c0 = column_index_from_string(col)
        count = min(count, column_index_from_string(m.group("col2")) - c0 + 1)
        return [value_of(sheet, f"{get_column_letter(c0 + i)}{first}") for i in range(count)]
    count = min(count, int(m.group("row2")) - first + 1)
    return [value_of(sheet, f"{col}{first + i}") for i in range(count)]


def _str_cache(values) -> StrData:
    return StrData(ptCount=len(values), pt=[StrVal(idx=i, v="" if v is None else str(v))
                                           for i, v in enumerate(values)])


def _num_cache(values, number_format: str = "General") -> NumData:
    return NumData(formatCode=number_format, ptCount=len(values),
                   pt=[NumVal(idx=i, v=float(v)) for i, v in enumerate(values) if _is_number(v)])


def _sheet_ref(sheet: str) -> str:
    return f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet


def add_chart(state, ws, chart: Chart, value_of: Callable, template_error: type) -> None:
    """Add *chart* (a template spec) to *ws*: series on defined names ending at the last
    row in use, with caches of those rows (see the module docstring)."""
    layout = state.blocks.get(chart.block)
    if layout is None:
        raise template_error(f"chart {chart.title!r}: unknown block {chart.block!r}")
    for key in (chart.categories,) + chart.series:
        if key not in layout.columns:
            raise template_error(f"chart {chart.title!r}: block {chart.block} has no column {key!r}")
    if hasattr(layout, "rows"):       # a timeline block: series are rows, time runs across
        _add_timeline_chart(state, ws, chart, layout, value_of, template_error)
        return
    last = layout.first_row + layout.capacity - 1
    sheet = _sheet_ref(layout.sheet)
    prefix = f"Chart_{chart.block}"
    active = chart.rows or state.block_active.get(chart.block, "")
    if active:
        # the flags of this block's slots: slot i of the chart's block is slot i of the
        # block holding the flag column (a shorter block shows that block's first slots)
        owner, _, key = (active if "." in active else f"{chart.block}.{active}").partition(".")
        flags = state.blocks[owner]
        col = get_column_letter(flags.columns[key])
        span = (f"{_sheet_ref(flags.sheet)}!${col}${flags.first_row}:${col}$"
                f"{flags.first_row + layout.capacity - 1}")
        count_text = f"MAX(1,SUM({span}))"
    else:
        count_text = f"MAX(1,ROWS({sheet}!$A${layout.first_row}:$A${last}))"
    state.names[f"{prefix}_Rows"] = count_text
    if active:
        count = rows_in_use(count_text, value_of)
    else:
        count = layout.capacity
    first = layout.first_row

    def name_for(key: str) -> tuple[str, list]:
        col = get_column_letter(layout.columns[key])
        name = f"{prefix}_{key}"
        top = f"{sheet}!${col}${first}"
        state.names[name] = f"{top}:INDEX({top}:${col}${last},{prefix}_Rows)"
        return f"[0]!{name}", [value_of(layout.sheet, f"{col}{first + i}") for i in range(count)]

    def title_of(key: str) -> SeriesLabel:
        col = get_column_letter(layout.columns[key])
        header = value_of(layout.sheet, f"{col}{first - 1}")
        return SeriesLabel(strRef=StrRef(f=f"{sheet}!${col}${first - 1}",
                                         strCache=_str_cache([header])))

    cat_ref, cat_values = name_for(chart.categories)
    if chart.kind == "scatter":
        plot = ScatterChart()
        plot.style = 13
        plot.scatterStyle = "lineMarker"   # required by ISO/IEC 29500 (openpyxl leaves it out)
        plot.x_axis.axPos = "b"
        for key in chart.series:
            ref, values = name_for(key)
            s = Series(tx=title_of(key),
                       xVal=AxDataSource(numRef=NumRef(f=cat_ref, numCache=_num_cache(cat_values))),
                       yVal=NumDataSource(numRef=NumRef(f=ref, numCache=_num_cache(values))))
            s.marker.symbol = "circle"
            plot.series.append(s)
    elif chart.kind in ("bar", "stacked_bar"):
        plot = BarChart()
        if chart.direction not in ("col", "bar"):
            raise template_error(f"chart {chart.title!r}: direction must be col or bar")
        plot.type = chart.direction
        if chart.kind == "stacked_bar":
            plot.grouping = "stacked"
            plot.overlap = 100
        numeric_categories = all(_is_number(v) for v in cat_values)
        for i, key in enumerate(chart.series):
            ref, values = name_for(key)
            cat = (AxDataSource(numRef=NumRef(f=cat_ref, numCache=_num_cache(cat_values)))
                   if numeric_categories else
                   AxDataSource(strRef=StrRef(f=cat_ref, strCache=_str_cache(cat_values))))
            plot.series.append(Series(idx=i, order=i, tx=title_of(key), cat=cat,
                                      val=NumDataSource(numRef=NumRef(f=ref,
                                                                      numCache=_num_cache(values)))))
        if chart.direction == "bar":
            # labels at the low end of the value axis: beside the bars, not under them when
            # values are negative (a tornado)
            plot.x_axis.tickLblPos = "low"
    else:
        raise template_error(f"chart {chart.title!r}: unknown kind {chart.kind!r} "
                             "(bar, stacked_bar, scatter)")
    if chart.data_labels:
        plot.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                        showLegendKey=False, showPercent=False)
        if chart.label_format:
            plot.dataLabels.numFmt = chart.label_format
    if len(chart.series) == 1:
        plot.legend = None
    plot.title = chart.title
    # openpyxl 3.1 writes no <c:delete/> on an axis, which current Excel reads as a hidden axis
    plot.x_axis.delete = False
    plot.y_axis.delete = False
    plot.y_axis.title = chart.y_title
    if chart.x_title:
        plot.x_axis.title = chart.x_title
    plot.width, plot.height = chart.width_cm, chart.height_cm
    ws.add_chart(plot, chart.anchor)


#: axis labels of a timeline chart in millions ("12 M")
MILLIONS = '#,##0,," M"'


def _add_timeline_chart(state, ws, chart: Chart, layout, value_of, template_error) -> None:
    """A chart of a timeline block: categories and series are rows, periods the points,
    each a defined name ending at the last period in use (``chart.rows``: the row of 0/1
    flags marking them, e.g. "Life.active"; default every period)."""
    sheet = _sheet_ref(layout.sheet)
    prefix = f"Chart_{chart.block}"
    c1 = layout.first_col
    first, last = get_column_letter(c1), get_column_letter(c1 + layout.capacity - 1)
    if chart.rows:
        owner, _, key = chart.rows.partition(".")
        flags = state.blocks[owner]
        r = flags.rows[key]
        count_text = f"MAX(1,SUM({_sheet_ref(flags.sheet)}!${first}${r}:${last}${r}))"
    else:
        count_text = f"MAX(1,COLUMNS({sheet}!${first}$1:${last}$1))"
    state.names[f"{prefix}_Rows"] = count_text
    count = rows_in_use(count_text, value_of) if chart.rows else layout.capacity

    def name_for(key: str) -> tuple[str, list]:
        r = layout.rows[key]
        name = f"{prefix}_{key}"
        top = f"{sheet}!${first}${r}"
        state.names[name] = f"{top}:INDEX({top}:${last}${r},{prefix}_Rows)"
        return f"[0]!{name}", [value_of(layout.sheet, f"{get_column_letter(c1 + i)}{r}")
                               for i in range(count)]

    def title_of(key: str) -> SeriesLabel:
        r = layout.rows[key]
        return SeriesLabel(strRef=StrRef(f=f"{sheet}!$A${r}",
                                         strCache=_str_cache([value_of(layout.sheet, f"A{r}")])))

    cat_ref, cat_values = name_for(chart.categories)
    cat = AxDataSource(numRef=NumRef(f=cat_ref, numCache=_num_cache(cat_values)))
    if chart.kind != "bar_line":
        raise template_error(f"chart {chart.title!r}: a timeline chart is of kind bar_line")
    bars = BarChart()
    bars.type = "col"
    ref, values = name_for(chart.series[0])
    bars.series.append(Series(idx=0, order=0, tx=title_of(chart.series[0]), cat=cat,
                              val=NumDataSource(numRef=NumRef(f=ref, numCache=_num_cache(values)))))
    for i, key in enumerate(chart.series[1:], start=1):
        line = LineChart()
        ref, values = name_for(key)
        s = Series(idx=i, order=i, tx=title_of(key),
                   cat=AxDataSource(numRef=NumRef(f=cat_ref, numCache=_num_cache(cat_values))),
                   val=NumDataSource(numRef=NumRef(f=ref, numCache=_num_cache(values))))
        s.marker.symbol = "none"
        s.smooth = False
        line.series.append(s)
        # the running total dwarfs a month's flow: the lines get an axis of their own (right)
        line.y_axis.axId = 200
        line.y_axis.crosses = "max"
        line.y_axis.delete = False
        line.y_axis.majorGridlines = None
        line.y_axis.number_format = MILLIONS
        line.y_axis.title = chart.y_title
        bars += line
    bars.title = chart.title
    bars.y_axis.number_format = MILLIONS
    bars.x_axis.delete = False
    bars.y_axis.delete = False
    bars.x_axis.tickLblPos = "low"
    bars.y_axis.title = chart.y_title
    if chart.x_title:
        bars.x_axis.title = chart.x_title
    bars.width, bars.height = chart.width_cm, chart.height_cm
    ws.add_chart(bars, chart.anchor)


# ------------------------------------------------------------------ refreshing the caches

_SERIES_REF = re.compile(
    r"<(?P<p>(?:\w+:)?)(?P<kind>numRef|strRef)><(?P=p)f>\[0\]!(?P<name>[A-Za-z_][\w.]*)</(?P=p)f>"
    r"(?:<(?P=p)(?:numCache|strCache)>.*?</(?P=p)(?:numCache|strCache)>)?</(?P=p)(?P=kind)>", re.S)


def _cache_xml(p: str, kind: str, values: list, number_format: str) -> str:
    if kind == "strRef":
        pts = "".join(f'<{p}pt idx="{i}"><{p}v>{escape("" if v is None else str(v))}</{p}v></{p}pt>'
                      for i, v in enumerate(values))
        return f'<{p}strCache><{p}ptCount val="{len(values)}"/>{pts}</{p}strCache>'
    pts = "".join(f'<{p}pt idx="{i}"><{p}v>{float(v)!r}</{p}v></{p}pt>'
                  for i, v in enumerate(values) if _is_number(v))
    return (f"<{p}numCache><{p}formatCode>{escape(number_format)}</{p}formatCode>"
            f'<{p}ptCount val="{len(values)}"/>{pts}</{p}numCache>')


def _points(kind: str, values: list) -> tuple:
    """(count, {index: value}) as a cache of *kind* would hold *values*."""
    if kind == "strRef":
        return len(values), {i: "" if v is None else str(v) for i, v in enumerate(values)}
    return len(values), {i: float(v) for i, v in enumerate(values) if _is_number(v)}


def _cached_points(xml: str) -> Optional[tuple]:
    """(count, {index: value}) of the cache in a series reference's XML (None: no cache)."""
    from xml.sax.saxutils import unescape
    count = re.search(r'<(?:\w+:)?ptCount val="(\d+)"', xml)
    if count is None:
        return None
    numeric = "numCache>" in xml
    pts = {}
    for idx, v in re.findall(r'<(?:\w+:)?pt idx="(\d+)"[^>]*><(?:\w+:)?v>([^<]*)</', xml):
        text = unescape(v)
        try:
            pts[int(idx)] = float(text) if numeric else text
        except ValueError:
            return None
    return int(count.group(1)), pts


def _same_points(a: Optional[tuple], b: tuple, rel: float = 1e-12) -> bool:
    """Equal caches; numbers equal to 1e-12 relative (an engine's last digits differ)."""
    if a is None or a[0] != b[0] or a[1].keys() != b[1].keys():
        return False
    for k, x in a[1].items():
        y = b[1][k]
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) > rel * max(1.0, abs(x), abs(y)):
                return False
        elif x != y:
            return False
    return True


def refresh_chart_caches(data: dict, value_of: Callable[[str, str], object]) -> int:
    """Rewrite, in *data* (``{part: bytes}`` of a package), the cache of every chart
    series that refers to a chart name (``[0]!Chart_...``) so that it holds the values of
    the rows in use. Returns the number of series references refreshed."""
    workbook = data.get("xl/workbook.xml", b"").decode("utf-8")
    from xml.sax.saxutils import unescape
    names = {m.group(1).casefold(): unescape(m.group(2), {"&quot;": '"', "&apos;": "'"})
             for m in re.finditer(r'<(?:\w+:)?definedName name="([^"]+)"[^>]*>([^<]*)</', workbook)}
    done = 0
    for part in [p for p in data if p.startswith("xl/charts/chart") and p.endswith(".xml")]:
        xml = data[part].decode("utf-8")

        def sub(m):
            nonlocal done
            values = name_values(m.group("name"), names, value_of)
            if values is None or all(v is None for v in values):
                # not a chart name of ours, or no cell it covers has a known value (a file
                # saved without cached values): the cache stays as the file has it
                return m.group(0)
            p, kind = m.group("p"), m.group("kind")
            if kind == "numRef" and not all(_is_number(v) for v in values):
                values = [v if _is_number(v) else None for v in values]
            if _same_points(_cached_points(m.group(0)), _points(kind, values)):
                return m.group(0)   # the cache holds these values already: keep its bytes
            done += 1
            return (f"<{p}{kind}><{p}f>[0]!{m.group('name')}</{p}f>"
                    f"{_cache_xml(p, kind, values, 'General')}</{p}{kind}>")

        new = _SERIES_REF.sub(sub, xml)
        if new != xml:
            data[part] = new.encode("utf-8")
    return done
