"""The README and docs/: every relative link resolves, every image exists, the README stays short.

Anchors follow GitHub's heading slugs (lower case, punctuation other than ``-`` and ``_`` dropped,
spaces to hyphens, ``-1``, ``-2`` for repeated headings), so a link that works here works on GitHub.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks and inline code (links there are not links)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def slugs(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    seen: dict[str, int] = {}
    out = set()
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        s = re.sub(r"[^\w\- ]", "", m.group(1).lower().replace("`", "")).replace(" ", "-")
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def links(page: Path) -> list[str]:
    return [m.group(1) for m in LINK.finditer(_prose(page.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_image_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path)).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in slugs(dest.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading with that anchor in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_link_checker_catches_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[ok](#title) [bad](#nope) ![img](missing.png)\n```\n[code](x.md)\n```\n")
    found = links(page)
    assert found == ["#title", "#nope", "missing.png"]
    assert "title" in slugs(page.read_text()) and "nope" not in slugs(page.read_text())


def test_slugs_follow_github():
    text = "# The model\n## `tokencost report`\n## Fleet P&L\n## Fleet P&L\n## Rent vs own: why?\n"
    assert slugs(text) == {"the-model", "tokencost-report", "fleet-pl", "fleet-pl-1", "rent-vs-own-why"}


def test_every_picture_in_docs_images_is_shown_somewhere():
    shown = {(p.parent / unquote(t.partition("#")[0])).resolve() for p in PAGES for t in links(p)}
    pictures = [p for p in (ROOT / "docs" / "images").rglob("*.png")]
    assert pictures
    unshown = [str(p.relative_to(ROOT)) for p in pictures if p.resolve() not in shown]
    assert not unshown, unshown


def test_readme_is_short_and_names_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 15_000
    assert "./dev report" in text and "./dev test" in text
    for page in ("docs/model.md", "docs/workbook.md", "docs/excel-functions.md", "docs/physics.md",
                 "docs/beyond-the-seed.md", "docs/safety.md", "docs/development.md"):
        assert f"({page}" in text, f"README does not link {page}"


def test_function_reference_is_fresh_and_complete():
    from tokencost.excel import reference, udfs

    assert not reference.stale(), "run: python -m tokencost.excel.reference"
    text = reference.DEFAULT_PATH.read_text(encoding="utf-8")
    for spec in udfs.UDF_SPECS:
        assert f"## {spec.name}\n" in text
        for arg in spec.args:
            assert f"| `{arg}` |" in text
    # the seed's figures, computed by the functions themselves
    assert "`=COST_PER_MTOK(1.9174840182648403, 400, 1)` gives **1.33159** USD/MTok" in text
    assert "gives **1,399.76** USD/month" in text


def test_function_reference_check_fails_on_an_edited_page(tmp_path, capsys):
    from tokencost.excel import reference

    page = tmp_path / "ref.md"
    assert reference.main(["--output", str(page)]) == 0
    assert reference.main(["--output", str(page), "--check"]) == 0
    page.write_text(page.read_text().replace("1.33159", "1.3"))
    assert reference.main(["--output", str(page), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
