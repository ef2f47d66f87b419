"""Every file tokencost writes opens in Excel without a repair prompt.

Two independent checks on each file the project writes (the main workbook,
``build --template seed``, ``export``, and a workbook after ``scenario add``,
``prices import --workbook`` and ``recalc``):

* :func:`tokencost.workbook.package_lint.lint_package`: Excel's own limits
  that no schema states (data-validation text lengths, list sources, chart
  axes, table headers, names, content types, relationships);
* schema validation of every XML part with ``openxml-audit``, a port of the
  Open XML SDK validator (ISO/IEC 29500 transitional plus Office extensions).
  One rule is allow-listed, exactly: the SDK models ``CT_Font`` (a
  ``<font>`` in ``styles.xml``) as a fixed sequence of children, where the
  ISO schema (``sml.xsd``) has ``<xsd:choice maxOccurs="unbounded">``, so
  openpyxl's child order (name, family, b, color, sz) is valid ISO markup
  that the SDK port calls "Unexpected element".

Each rule of the linter is also shown to fire: a defect of each class is
planted in a copy of the committed workbook.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tokencost.cli import main
from tokencost.workbook.package_lint import lint_package, name_problem, sheet_name_problem

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "tokencost.xlsm"
CATALOG = REPO / "tests" / "data" / "litellm_prices_sample.json"

FILES = ("main", "seed", "export", "scenario_add", "prices_import", "recalc")


@pytest.fixture(scope="module")
def written(tmp_path_factory, libreoffice):
    """{kind: path} of one file of each kind tokencost writes."""
    tmp = tmp_path_factory.mktemp("written")
    out = {"main": COMMITTED}
    assert main(["build", "--template", "seed", "--output", str(tmp / "seed.xlsx")]) == 0
    out["seed"] = tmp / "seed.xlsx"
    assert main(["export", str(COMMITTED), str(tmp / "export.xlsx")]) == 0
    out["export"] = tmp / "export.xlsx"
    assert main(["scenario", "add", str(COMMITTED), "--name", "power_0.08", "--set",
                 "power_price_usd_per_kwh=0.08", "--output", str(tmp / "scenario.xlsm")]) == 0
    out["scenario_add"] = tmp / "scenario.xlsm"
    rc = main(["prices", "import", str(CATALOG), "--mode", "chat", "--workbook", str(COMMITTED),
               "--cost-basis", "dense-70b", "--output", str(tmp / "prices.xlsm")])
    assert rc in (0, 1)   # 1: the sample has malformed entries on purpose (reported, skipped)
    out["prices_import"] = tmp / "prices.xlsm"
    shutil.copy(COMMITTED, tmp / "recalc.xlsm")
    assert main(["recalc", str(tmp / "recalc.xlsm"), "--no-backup"]) == 0
    out["recalc"] = tmp / "recalc.xlsm"
    return out


@pytest.mark.parametrize("kind", FILES)
def test_every_written_file_keeps_excels_rules(written, kind):
    defects = lint_package(written[kind])
    assert not defects, "\n".join(map(str, defects))


# ------------------------------------------------------------------ schema validation

_FONT_CHILDREN = {"b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
                  "sz", "color", "name", "family", "charset", "scheme"}
_FONT_PATH = re.compile(r"^/styleSheet\[1\]/(fonts\[1\]|dxfs\[1\]/dxf\[\d+\])/font\[\d+\]$")


def _font_order(error) -> bool:
    """The one allow-listed rule: a <font>'s children in an order the SDK's sequence forbids."""
    return (error.error_type.value == "schema" and error.part_uri == "/xl/styles.xml"
            and error.node in _FONT_CHILDREN and error.description == f"Unexpected element "
            f"'{error.node}' found" and _FONT_PATH.match(error.path or "") is not None)


@pytest.fixture(scope="module")
def schema_validator():
    from openxml_audit import FileFormat, OpenXmlValidator
    return OpenXmlValidator(file_format=FileFormat.OFFICE_2010, max_errors=0)


def _schema_errors(validator, path):
    from openxml_audit import ValidationSeverity
    result = validator.validate(str(path))
    return [e for e in result.errors if e.severity == ValidationSeverity.ERROR and not _font_order(e)]


@pytest.mark.parametrize("kind", FILES)
def test_every_xml_part_is_schema_valid(written, schema_validator, kind):
    errors = _schema_errors(schema_validator, written[kind])
    assert not errors, "\n".join(f"{e.part_uri} {e.path}: {e.description}" for e in errors)


def _chart_part(tag: str) -> str:
    """The first chart part of the committed workbook holding a <tag> (e.g. scatterChart)."""
    with zipfile.ZipFile(COMMITTED) as zf:
        return next(n for n in sorted(zf.namelist()) if n.startswith("xl/charts/chart")
                    and f"<{tag}>" in zf.read(n).decode())


def test_the_schema_check_sees_a_missing_scatter_style(tmp_path, schema_validator):
    bad = _planted(tmp_path, _chart_part("scatterChart"),
                   lambda x: re.sub(r"<scatterStyle[^>]*/>", "", x))
    errors = _schema_errors(schema_validator, bad)
    assert any("scatterStyle" in e.description for e in errors)


def test_the_font_order_allowance_is_exactly_that_rule(tmp_path, schema_validator):
    """A wrong element inside a <font> is still an error: only the order is allowed."""
    bad = _planted(tmp_path, "xl/styles.xml", lambda x: x.replace("<font>", "<font><bogus/>", 1))
    errors = _schema_errors(schema_validator, bad)
    assert any("bogus" in e.description for e in errors)


# ------------------------------------------------------------------ each defect class fires

def _planted(tmp_path: Path, part: str, change) -> Path:
    """A copy of the committed workbook with *part*'s text changed by *change*."""
    target = tmp_path / f"planted-{len(list(tmp_path.iterdir()))}.xlsm"
    with zipfile.ZipFile(COMMITTED) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        found = False
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                new = change(data.decode("utf-8"))
                assert new != data.decode("utf-8"), f"the change did not apply to {part}"
                data, found = new.encode("utf-8"), True
            dst.writestr(info, data)
        assert found, part
    return target


def _sheet_part(title: str) -> str:
    from tokencost.workbook.cached import sheet_parts
    with zipfile.ZipFile(COMMITTED) as zf:
        return sheet_parts(zf)[title]


def _first_validation(xml: str, attr: str, value: str) -> str:
    return re.sub(r"<dataValidation ", f'<dataValidation {attr}="{value}" ', xml, count=1)


PLANTS = {
    "data-validation-text": ("CostComponents", lambda x: re.sub(
        r'errorTitle="[^"]*"', 'errorTitle="' + "x" * 33 + '"', x, count=1)),
    "data-validation-formula": ("CostComponents", lambda x: re.sub(
        r"<formula1>[^<]*</formula1>", "<formula1>" + "A1+" * 90 + "1</formula1>", x, count=1)),
    "data-validation-list": ("Models", lambda x: re.sub(
        r"<formula1>(List_[A-Za-z_]+)</formula1>", r"<formula1>=\1</formula1>", x, count=1)),
    "table-header": ("Hardware", lambda x: x.replace(">gpu_price_usd<", ">price<", 1)),
    "cell-formula": ("Calc", lambda x: re.sub(r"<f>[^<]*</f>", "<f>" + "1+" * 4200 + "1</f>", x,
                                              count=1)),
    "cell-style": ("Calc", lambda x: re.sub(r'<c r="A5" s="\d+"', '<c r="A5" s="9999"', x, count=1)),
}


@pytest.mark.parametrize("rule", sorted(PLANTS))
def test_a_planted_sheet_defect_is_found(tmp_path, rule):
    sheet, change = PLANTS[rule]
    bad = _planted(tmp_path, _sheet_part(sheet), change)
    assert rule in {d.rule for d in lint_package(bad)}


PART_PLANTS = {
    "chart-scatter-style": (lambda: _chart_part("scatterChart"),
                            lambda x: re.sub(r"<scatterStyle[^>]*/>", "", x)),
    "chart-axis-delete": ("xl/charts/chart1.xml", lambda x: re.sub(r"<delete[^>]*/>", "", x, count=1)),
    "content-types": ("[Content_Types].xml", lambda x: x.replace(
        'Extension="bin"', 'Extension="binx"')),
    "relationships": ("xl/_rels/workbook.xml.rels", lambda x: x.replace(
        "worksheets/sheet1.xml", "worksheets/sheet999.xml", 1)),
    "defined-name": ("xl/workbook.xml", lambda x: x.replace(
        'name="Check_Tolerance"', 'name="TC2026"', 1)),
    "sheet-name": ("xl/workbook.xml", lambda x: x.replace('name="Cover"', 'name="Co:ver"', 1)),
    "table-filter": ("xl/tables/table1.xml", lambda x: re.sub(
        r'<autoFilter ref="[^"]*"', '<autoFilter ref="A1:B2"', x, count=1)),
    "table-name": ("xl/tables/table2.xml", lambda x: re.sub(
        r'displayName="[^"]*"', 'displayName="Hardware"', x, count=1)),
    "well-formed": ("xl/charts/chart2.xml", lambda x: x.replace("</c:chartSpace>", "").replace(
        "</chartSpace>", "")),
}


@pytest.mark.parametrize("rule", sorted(PART_PLANTS))
def test_a_planted_package_defect_is_found(tmp_path, rule):
    part, change = PART_PLANTS[rule]
    bad = _planted(tmp_path, part() if callable(part) else part, change)
    assert rule in {d.rule for d in lint_package(bad)}


@pytest.mark.parametrize("name, bad", [
    ("Power_Price", False), ("_x", False), ("A1", True), ("XFD1048576", True), ("XFE1", False),
    ("R1C1", True), ("R", True), ("C", True), ("RC2", True), ("TRUE", True), ("1st", True),
    ("a b", True), ("Dep.Model", False), ("_xlnm.Print_Area", False), ("x" * 256, True),
])
def test_defined_name_rules(name, bad):
    assert (name_problem(name) is not None) is bad


@pytest.mark.parametrize("name, bad", [
    ("Outputs", False), ("power_0.06", False), ("a" * 31, False), ("a" * 32, True), ("a/b", True),
    ("a[1]", True), ("'x", True), ("History", True), ("", True), ("x?", True),
])
def test_sheet_name_rules(name, bad):
    assert (sheet_name_problem(name) is not None) is bad


def test_openpyxl_writes_with_the_standard_library_serializer():
    """lxml is installed (openxml-audit needs it), yet openpyxl must not serialize with it:
    openpyxl 3.1.5 with lxml writes a pivot cache's r:id without declaring r (a corrupt
    workbook.xml, see test_workbook_safety.test_pivot_table_survives), and other bytes."""
    import lxml  # noqa: F401  (installed: the setting, not the absence of lxml, decides)
    import openpyxl
    assert openpyxl.LXML is False
