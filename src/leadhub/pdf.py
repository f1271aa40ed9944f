"""PDF documents that show Turkish and Arabic: one place for fpdf2, its font and text shaping.

The font is DejaVu Sans from Debian's `fonts-dejavu-core` (installed by `make setup`); it covers
Latin with Turkish letters and Arabic. Shaping (uharfbuzz) joins Arabic letters and lays out
right-to-left runs, so a mixed line reads correctly in both directions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT_DIRS = (
    Path(os.environ.get("LEADHUB_FONT_DIR", "/usr/share/fonts/truetype/dejavu")),
    Path("/usr/share/fonts/truetype/dejavu"),
)
FONT_FAMILY = "DejaVu"
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class FontMissing(RuntimeError):
    """The Unicode font is not installed (run `make setup`, which installs fonts-dejavu-core)."""


def font_path(style: str = "") -> Path:
    """Where the report font of `style` ("" or "B") lives on this machine."""
    name = FONT_FILES[style]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(f"{name} not found; install Debian's fonts-dejavu-core (make setup)")


class Document(FPDF):
    """An A4 page with the Unicode font, shaping on, a title line and numbered footers."""

    def __init__(self, *, title: str, subtitle: str = "", landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        for style in FONT_FILES:
            self.add_font(FONT_FAMILY, style, str(font_path(style)))
        self.set_text_shaping(use_shaping_engine=True)
        self.set_title(title)
        self.set_creator("LeadHub")
        self.doc_title = title
        self.doc_subtitle = subtitle
        self.set_auto_page_break(auto=True, margin=15)
        self.alias_nb_pages()
        self.add_page()

    def header(self) -> None:
        self.set_font(FONT_FAMILY, "B", 14)
        self.cell(0, 8, self.doc_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.doc_subtitle:
            self.set_font(FONT_FAMILY, "", 9)
            self.cell(0, 5, self.doc_subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.cell(0, 6, f"{self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        """A section title, kept with at least a few lines of what follows."""
        if self.will_page_break(30):
            self.add_page()
        self.ln(2)
        self.set_font(FONT_FAMILY, "B", 11)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str) -> None:
        self.set_font(FONT_FAMILY, "", 9)
        self.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_rows(self, header: list[str], rows: list[list[str]]) -> None:
        """A simple table: a bold header row, then the rows (header repeats on a new page)."""
        self.set_font(FONT_FAMILY, "", 8)
        # Shaping is slow per cell: only a table with right-to-left text needs it.
        shaped = any(RTL.search(text) for text in (*header, *(v for r in rows for v in r)))
        self.set_text_shaping(use_shaping_engine=shaped)
        with self.table(
            headings_style=FontFace(family=FONT_FAMILY, emphasis="BOLD"),
            line_height=5,
            text_align="LEFT",
            repeat_headings=1,
        ) as table:
            table.row(header)
            for values in rows:
                table.row([str(v) for v in values])
        self.set_text_shaping(use_shaping_engine=True)
        self.ln(1)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
