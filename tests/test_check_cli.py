"""`tokencost check` beyond the cell-by-cell input checks: blank rows inside an input
table, and the workbook's own master check (what the input rules cannot see, such as
a table that outgrew its calculation block)."""
from __future__ import annotations

import json
import shutil

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string

from tokencost.cli import main
from tokencost.workbook.spec import REPO_ROOT

COMMITTED = REPO_ROOT / "tokencost.xlsm"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_blank_row_inside_a_table_is_a_problem(tmp_path, capsys):
    book = tmp_path / "blank.xlsm"
    wb = load_workbook(COMMITTED, keep_vba=True)
    ws = wb["Prices"]
    first = int(ws.tables["Prices"].ref.split(":")[0][1:]) + 1      # first data row
    last_col = ws.tables["Prices"].ref.split(":")[1].rstrip("0123456789")
    # the second row (DeepSeek V4 Pro): no Subscriptions row names it as its price_model
    for c in range(1, column_index_from_string(last_col) + 1):
        ws.cell(first + 1, c).value = None
    wb.save(book)
    code, out, err = run(capsys, "check", book, "--no-physics")
    assert code == 1
    assert out == (f"Prices!A{first + 1}:{last_col}{first + 1}: blank row inside table Prices; "
                   "fill it or delete the table row\n")


def test_the_workbooks_own_master_check_is_reported(tmp_path, capsys):
    """20 imported prices overflow the 20-slot calculation block: the inputs are all valid,
    but the workbook's Checks sheet counts errors, and check says so."""
    catalog = tmp_path / "twenty.json"
    catalog.write_text(json.dumps({f"m{i}": {"litellm_provider": "p", "mode": "chat",
                                             "input_cost_per_token": 1e-6,
                                             "output_cost_per_token": 2e-6} for i in range(20)}))
    book = tmp_path / "full.xlsm"
    shutil.copyfile(COMMITTED, book)
    code, out, err = run(capsys, "prices", "import", catalog, "--workbook", book,
                         "--cost-basis", "dense-70b")
    assert code == 1 and "Checks sheet now counts" in err        # import says it, and exits 1
    code, out, err = run(capsys, "check", book, "--no-physics")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Checks!B")
    assert "the workbook's own checks count" in lines[0]
    code, out, _ = run(capsys, "check", COMMITTED, "--no-physics")
    assert code == 0 and out.startswith("OK:")
