"""The workbook a template starts from: blank, or xlwings' standalone workbook (its VBA
module, at the xlwings version the package pins, and its xlwings.conf sheet)."""
from __future__ import annotations

import io
import re
import tomllib
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook

from .. import vba
from ..spec import REPO_ROOT, Template, TemplateError

#: the quickstart's sample macro (``RunPython "import tokencost;tokencost.main()"``), which
#: is not part of the workbook: removed from the VBA project it ships in
SAMPLE_MODULES = ("Module1",)



def required_xlwings() -> str:
    """The xlwings version the package pins (``xlwings==X`` in its dependencies)."""
    from importlib import metadata
    try:
        requirements = metadata.requires("tokencost-xl") or []
    except metadata.PackageNotFoundError:
        requirements = []
    if not requirements:   # running from a source tree that was never installed
        with open(REPO_ROOT / "pyproject.toml", "rb") as fh:
            requirements = tomllib.load(fh)["project"]["dependencies"]
    for req in requirements:
        m = re.fullmatch(r"\s*xlwings\s*==\s*([\w.]+)\s*", req)
        if m:
            return m.group(1)
    raise TemplateError("the package does not pin xlwings (xlwings==X in its dependencies)")



def xlwings_vba_project() -> tuple[bytes, str]:
    """The VBA project of the installed xlwings' standalone workbook without its sample
    macro, and the xlwings version that VBA is for. Refuses an xlwings other than the pin:
    the VBA loads ``xlwings64-<version>.dll``, which only that xlwings installs."""
    import xlwings
    pin = required_xlwings()
    if xlwings.__version__ != pin:
        raise TemplateError(f"xlwings {xlwings.__version__} is installed but tokencost pins "
                            f"xlwings=={pin}, whose VBA the workbook carries; run "
                            f"`pip install xlwings=={pin}`")
    source = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    with zipfile.ZipFile(source) as zf:
        project = zf.read("xl/vbaProject.bin")
    version = vba.constant(project, "XLWINGS_VERSION")
    if version != pin:
        raise TemplateError(f"xlwings {pin}'s standalone VBA says XLWINGS_VERSION = {version!r}")
    return vba.without_modules(project, SAMPLE_MODULES), version



def base_workbook(template: Template) -> Workbook:
    if template.base == "xlwings-standalone":
        import xlwings
        project, _version = xlwings_vba_project()
        source = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
        wb = load_workbook(source, keep_vba=True)
        archive = zipfile.ZipFile(io.BytesIO(), "a", zipfile.ZIP_DEFLATED)
        for name in wb.vba_archive.namelist():
            archive.writestr(name, project if name == "xl/vbaProject.bin"
                             else wb.vba_archive.read(name))
        wb.vba_archive = archive
        conf = wb["_xlwings.conf"]
        conf.title = "xlwings.conf"
        for row in conf.iter_rows(min_col=1, max_col=2):
            if row[0].value == "UDF Modules":
                row[1].value = template.udf_modules or None
        for ws in list(wb.worksheets):
            if ws.title != "xlwings.conf":
                wb.remove(ws)
        return wb
    if template.base == "blank":
        wb = Workbook()
        wb.remove(wb.active)
        return wb
    raise TemplateError(f"unknown base {template.base!r} (xlwings-standalone or blank)")
