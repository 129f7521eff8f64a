"""Chinese text in the generated PDFs, and dates written the Chinese way.

The text is set in a TrueType CJK font embedded in each PDF (a subset: the glyphs used), so every
viewer shows the same page: the file named by PDF_FONT_FILE, else the first of FONT_FILES found
(WenQuanYi Zen Hei, Debian's fonts-wqy-zenhei). Without one the PDFs fall back to reportlab's
built-in CID font STSong-Light, which is not embedded: viewers lacking Adobe's Asian fonts
(PDFium, many phones) show its text blank or substituted, hence the warning.
"""
import logging
import os
import threading
from datetime import date
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

EMBEDDED = "CraneFlowChinese"
FALLBACK = "STSong-Light"
# Printed on every certificate: a font without them (a Latin one) would leave the Chinese blank.
REQUIRED = "鄂建机备证〔〕第号年月日"
# Freely licensed CJK fonts with TrueType (glyf) outlines, where distributions install them, best
# coverage first. OpenType/CFF fonts (Noto Sans CJK, Source Han) cannot be embedded by reportlab.
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian, Ubuntu: fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # Fedora: wqy-zenhei-fonts
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",  # Arch: wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # Debian: fonts-arphic-uming (GB2312 and Big5 only)
)


def font_file() -> Path | None:
    """PDF_FONT_FILE, else the first installed of FONT_FILES; None when there is none."""
    configured = os.environ.get("PDF_FONT_FILE", "").strip()
    if configured:
        return Path(configured)
    return next((Path(name) for name in FONT_FILES if os.path.isfile(name)), None)


_lock = threading.Lock()
_chosen: str | None = None


def chinese_font() -> str:
    """The font's name, registered with reportlab on first use (the embedded font, else STSong-Light).
    Registered once: a font replaced while another thread renders would mix two fonts' subsets in its
    document."""
    global _chosen
    if _chosen is None:
        with _lock:
            if _chosen is None:
                _chosen = _register()
    return _chosen


def reset() -> None:
    """Choose and register the font again on next use (PDF_FONT_FILE changed)."""
    global _chosen
    with _lock:
        _chosen = None


def _register() -> str:
    path = font_file()
    if path is None:
        log.warning("no Chinese TrueType font found (set PDF_FONT_FILE or install fonts-wqy-zenhei): "
                    "PDFs use %s, which is not embedded and shows blank in some viewers", FALLBACK)
    else:
        try:
            # The first font of a collection (.ttc): WenQuanYi Zen Hei, not its Mono or Sharp variants.
            font = TTFont(EMBEDDED, str(path), subfontIndex=0)
            missing = "".join(ch for ch in REQUIRED if ord(ch) not in font.face.charToGlyph)
            if missing:
                raise TTFError(f"no glyph for {missing}")
            pdfmetrics.registerFont(font)
            return EMBEDDED
        except (OSError, TTFError) as exc:
            log.warning("PDF font %s cannot be embedded (%s): PDFs use %s, which is not embedded and "
                        "shows blank in some viewers", path, exc, FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK


def chinese_date(day: date) -> str:
    """2026年11月22日"""
    return f"{day.year}年{day.month}月{day.day}日"
