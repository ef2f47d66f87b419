"""The workbook's VBA project: xlwings' module at the pinned version, no sample macro.

Read three ways: by tokencost (:mod:`tokencost.workbook.vba`), by oletools
(an independent reader of VBA projects) and by LibreOffice itself, which
imports the VBA source into its Basic libraries when it opens the workbook.
"""
from __future__ import annotations

import io
import re
import tomllib
import zipfile
from pathlib import Path

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencost.workbook import vba
from workbook_helpers import uno

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "tokencost.xlsm"
KEPT = {"ThisWorkbook", "Sheet1", "Sheet2", "xlwings", "Dictionary"}


def _project(path=COMMITTED) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/vbaProject.bin")


def _pin() -> str:
    """The one fact: ``xlwings==X`` in pyproject.toml's runtime dependencies."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [re.fullmatch(r"xlwings==([\w.]+)", d.replace(" ", "")) for d in deps]
    pins = [m.group(1) for m in pins if m]
    assert len(pins) == 1, f"xlwings must be pinned exactly once in the dependencies: {deps}"
    return pins[0]


def _oletools_modules(project: bytes) -> dict:
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser("vbaProject.bin", data=project)
    try:
        return {Path(name).stem: code for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_the_vba_project_holds_xlwings_and_no_sample_macro():
    modules = _oletools_modules(_project())
    assert set(modules) == KEPT
    assert not any("RunPython" in code and ".main()" in code for code in modules.values())


def test_the_xlwings_pin_is_the_version_of_the_vba_the_workbook_carries():
    import xlwings
    pin = _pin()
    code = _oletools_modules(_project())["xlwings"]
    version = re.search(r'Const XLWINGS_VERSION As String = "([^"]+)"', code).group(1)
    assert version == pin
    assert f'"xlwings64-{pin}.dll"' in code and f'"xlwings32-{pin}.dll"' in code
    assert vba.constant(_project(), "XLWINGS_VERSION") == pin
    assert xlwings.__version__ == pin


def test_libreoffice_reads_the_same_modules(libreoffice):
    result = uno([{"op": "open", "path": str(COMMITTED)}, {"op": "basic_modules"}])
    modules = result[1]["VBAProject"]
    assert set(modules) == KEPT
    ours = {m.name: m.source for m in vba.read_modules(_project())}
    for name, source in modules.items():   # LibreOffice adds its VBA-support header lines
        body = "\n".join(ln for ln in source.splitlines()
                         if not ln.startswith(("Rem Attribute VBA_ModuleType", "Option VBASupport",
                                               "Option ClassModule")))
        expected = "\n".join(ln for ln in ours[name].splitlines()   # LibreOffice drops attributes
                             if not re.match(r"\s*Attribute ", ln))
        assert body.strip() == expected.strip(), name


def test_dropping_a_module_copies_every_other_stream_byte_for_byte():
    import xlwings
    source = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    original = _project(source)
    rewritten = vba.without_modules(original, ["Module1"])
    with olefile.OleFileIO(io.BytesIO(original)) as a, olefile.OleFileIO(io.BytesIO(rewritten)) as b:
        before = {"/".join(p): a.openstream(p).read() for p in a.listdir()}
        after = {"/".join(p): b.openstream(p).read() for p in b.listdir()}
    assert set(before) - set(after) == {"VBA/Module1"}
    for name in set(after) - {"VBA/dir", "PROJECT", "PROJECTwm"}:
        assert after[name] == before[name], name
    assert b"Module1" not in after["PROJECT"] and b"Module1" not in after["PROJECTwm"]
    assert b"Module1" not in vba.decompress(after["VBA/dir"])
    assert _project() == rewritten   # the committed workbook carries exactly this project


def test_dropping_an_unknown_module_is_refused():
    with pytest.raises(ValueError, match="no module"):
        vba.without_modules(_project(), ["NoSuchModule"])


def test_build_refuses_an_xlwings_other_than_the_pin(monkeypatch):
    import xlwings
    from tokencost.workbook.spec import TemplateError
    from tokencost.workbook.build.base import xlwings_vba_project
    monkeypatch.setattr(xlwings, "__version__", "99.0.0")
    with pytest.raises(TemplateError, match="pip install xlwings=="):
        xlwings_vba_project()


# ------------------------------------------------------------------ compression (MS-OVBA §2.4.1)

SPEC_PLAIN = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
#: MS-OVBA §3.2.3 (compressed example): the specification's own encoding of SPEC_PLAIN
SPEC_COMPRESSED = bytes.fromhex(
    "012FB000236161616263646582660070616768696A013808616B6C00306D6E6F7006710270"
    "0410727374757610777879 7A003C".replace(" ", ""))


def test_the_specifications_example_decompresses_and_ours_is_as_short():
    assert vba.decompress(SPEC_COMPRESSED) == SPEC_PLAIN
    ours = vba.compress(SPEC_PLAIN)
    assert vba.decompress(ours) == SPEC_PLAIN
    assert len(ours) == len(SPEC_COMPRESSED)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=9000),
                 st.text(alphabet="ab \r\n", max_size=12000).map(str.encode)))
def test_compression_round_trips(data):
    assert vba.decompress(vba.compress(data)) == data


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh_0123456789", min_size=1, max_size=20),
    st.binary(max_size=10000), min_size=1, max_size=12))
def test_the_compound_file_writer_round_trips_through_olefile(streams):
    paths = {}
    for i, (name, data) in enumerate(sorted(streams.items())):
        paths[f"VBA/{name}" if i % 2 else name] = data
    if len({p.upper() for p in paths}) != len(paths):   # compound-file names ignore case
        return
    blob = vba.write_compound_file(paths)
    with olefile.OleFileIO(io.BytesIO(blob)) as ole:
        read = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    assert read == paths
