"""Chinese text in the generated PDFs: reportlab's built-in CID font STSong-Light (viewers supply
it, no font file is embedded) and dates written the Chinese way."""
from datetime import date
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

FONT = "STSong-Light"


@lru_cache(maxsize=1)
def chinese_font() -> str:
    """The font's name, registered with reportlab on first use."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def chinese_date(day: date) -> str:
    """2026年11月22日"""
    return f"{day.year}年{day.month}月{day.day}日"
