"""The Chinese font of the generated PDFs: a TrueType subset embedded in the certificate and the usage
report, so a viewer with no Chinese font of its own still draws their text. PDFium is started with an
empty font directory to be such a viewer (with system fonts it would substitute one for a font the
PDF does not carry); there the STSong-Light fallback, not embedded, draws nothing."""
import io
import json
import logging
import re
import string
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import reportlab
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from engine.db import IssuedCertificate
from engine.domain.cranes import CRANE_TYPES
from engine.domain.regions import all_regions, children, get_region, housing_authority
from engine.services import certificate_pdf, pdf_text, usage_report_pdf
from engine.services.certificates import KIND_LABELS
from engine.services.usage_report import Period, RegionRow, UsageReport

ROOT = Path(__file__).resolve().parents[2]

USE_REGISTRATION = {
    "v": 1, "number": "SY-A-2026000123", "printed_number": "鄂A建机使证〔2026〕第000123号", "kind": "use_registration",
    "crane_type": "tower", "crane_type_name": "塔式起重机", "model": "QTZ80(TC6010-6)",
    "manufacturer": "湖北江汉建筑工程机械有限公司", "factory_serial": "JH-2021-0457", "manufacture_date": "2021-03-15",
    "record_number": "鄂A-T2026000045", "filed_on": "2026-01-12", "owner_name": "武汉鑫塔建筑机械租赁有限公司",
    "owner_uscc": "91420106MA4K2XJ73B", "authority": "武汉市住房和城乡建设局", "authority_region_code": "420100",
    "issued_on": "2026-02-03", "registration_number": "鄂A-SY2026000078", "registered_on": "2026-02-03",
    "project_name": "武昌滨江商务区二期工程（№2地块）", "project_code": "420106202501010101",
    "site_address": "武汉市武昌区和平大道1234号", "site_region_code": "420106", "site_region": "武昌区",
    "user_name": "武汉城建工程总承包有限公司", "user_uscc": "91420100177684112U",
    "installer_name": "湖北华安起重设备安装工程有限公司", "installer_uscc": "91420100MA4KXQ1E2T"}

# Renders page 1 of each PDF with PDFium scanning only an empty font directory, and prints the number
# of dark pixels (luminance < 128; the red title counts) in each box (points from the top left).
_RENDER = """
import ctypes, json, sys
import pypdfium2, pypdfium2.raw as raw
from pypdfium2 import _library_scope
from pypdfium2.internal import bases

_library_scope.destroy_lib()
folder = ctypes.create_string_buffer(sys.argv[1].encode())
paths = (ctypes.POINTER(ctypes.c_char) * 2)(ctypes.cast(folder, ctypes.POINTER(ctypes.c_char)), None)
raw.FPDF_InitLibraryWithConfig(raw.FPDF_LIBRARY_CONFIG(
    version=2, m_pUserFontPaths=paths, m_pIsolate=None, m_v8EmbedderSlot=0))
bases.LIBRARY_AVAILABLE = True
counts = []
for path, box in json.loads(sys.argv[2]):
    document = pypdfium2.PdfDocument(path)
    page = document[0]
    image = page.render(scale=1).to_pil().convert("L").crop(box)
    counts.append(sum(image.histogram()[:128]))
    page.close()
    document.close()
print(json.dumps(counts))
"""


@pytest.fixture
def font_state():
    """chinese_font() chooses once per process: choose again for the test and after it."""
    pdf_text.reset()
    yield
    pdf_text.reset()


@pytest.fixture
def embedded(font_state, monkeypatch):
    monkeypatch.delenv("PDF_FONT_FILE", raising=False)
    assert pdf_text.font_file() is not None, "no Chinese TrueType font installed (make setup installs fonts-wqy-zenhei)"
    assert pdf_text.chinese_font() == pdf_text.EMBEDDED


@pytest.fixture(params=["missing", "latin"])
def fallback(request, font_state, monkeypatch, tmp_path, caplog):
    """PDF_FONT_FILE naming no file, or a TrueType font without Chinese (reportlab's own Vera)."""
    vera = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    font = tmp_path / "missing.ttf" if request.param == "missing" else vera
    monkeypatch.setenv("PDF_FONT_FILE", str(font))
    with caplog.at_level(logging.WARNING, logger=pdf_text.__name__):
        assert pdf_text.chinese_font() == pdf_text.FALLBACK
    assert font.name in caplog.text and "STSong-Light" in caplog.text


def _certificate() -> IssuedCertificate:
    return IssuedCertificate(id=1, crane_id=1, kind="use_registration", number=USE_REGISTRATION["number"],
                             status="valid", authority_region_code="420100", data=dict(USE_REGISTRATION),
                             signature="c" * 86, issued_at=datetime(2026, 2, 3, 2, 0, tzinfo=timezone.utc))


def _report() -> UsageReport:
    province = get_region("420000")
    return UsageReport(region=province, period=Period.month(2025, 11), rows=[RegionRow(r) for r in children("420000")],
                       total=RegionRow(province), procedures=[], ranking=[],
                       generated_at=datetime(2025, 12, 1, 1, 0, tzinfo=timezone.utc))


def _certificate_title_box() -> tuple[float, float, float, float]:
    """Around the 26 pt title, whose baseline is 48 pt below the top margin (certificate_pdf)."""
    baseline = certificate_pdf.MARGIN + 48
    return (certificate_pdf.MARGIN + 40, baseline - 26, certificate_pdf.WIDTH - certificate_pdf.MARGIN - 40,
            baseline + 4)


def _report_title_box(report: UsageReport) -> tuple[float, float, float, float]:
    """Around the Chinese words of the centred 18 pt title (its period, in digits, left out)."""
    title, font = report.title(), pdf_text.chinese_font()
    words = title.split("（")[0]
    width, _ = landscape(A4)
    left = (width - pdfmetrics.stringWidth(title, font, 18)) / 2
    top = 14 * mm
    return left, top, left + pdfmetrics.stringWidth(words, font, 18), top + 26


def _dark_pixels(tmp_path, *pdfs: tuple[bytes, tuple]) -> list[int]:
    fonts = tmp_path / "no-fonts"
    fonts.mkdir(exist_ok=True)
    jobs = []
    for i, (pdf, box) in enumerate(pdfs):
        path = tmp_path / f"{i}.pdf"
        path.write_bytes(pdf)
        jobs.append((str(path), [round(v) for v in box]))
    out = subprocess.run([sys.executable, "-c", _RENDER, str(fonts), json.dumps(jobs)], capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def _fonts(pdf: bytes) -> list[dict]:
    """The fonts of page 1 but reportlab's initial Helvetica (a standard font no text is drawn in):
    base name, and whether the font program is embedded (FontFile2: TrueType)."""
    resources = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    found = []
    for ref in resources.values():
        font = ref.get_object()
        if font["/BaseFont"] == "/Helvetica":
            continue
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        found.append({"name": str(font["/BaseFont"]), "subtype": str(font["/Subtype"]),
                      "embedded": "/FontFile2" in descriptor})
    return found


def _title_drawn(dark: int, box) -> bool:
    """Glyph strokes cover a good part of a box around a line of Chinese; nothing drawn is 0."""
    return dark > 0.05 * (box[2] - box[0]) * (box[3] - box[1])


def test_certificate_and_report_embed_a_truetype_subset_drawn_without_system_fonts(embedded, tmp_path):
    cert, report = _certificate(), _report()
    certificate, usage = certificate_pdf.render_certificate(cert), usage_report_pdf.render_pdf(report)
    face = pdfmetrics.getFont(pdf_text.EMBEDDED).face.name.decode()
    for pdf in (certificate, usage):
        fonts = _fonts(pdf)
        assert fonts and all(f["embedded"] and f["subtype"] == "/TrueType" for f in fonts), fonts
        # Subsets are named AAAAAA+Face, BAAAAA+Face, …: the glyphs used, not the whole font.
        assert all(re.fullmatch(rf"/[A-K]{{6}}\+{face}(-0)?", f["name"]) for f in fonts), fonts
        assert b"STSong-Light" not in pdf
        assert len(pdf) < 200_000
    # Copying and searching still give the text (each subset carries a ToUnicode map).
    text = PdfReader(io.BytesIO(certificate)).pages[0].extract_text().replace(" ", "")
    assert KIND_LABELS["use_registration"][0] in text and USE_REGISTRATION["printed_number"] in text
    assert report.title() in PdfReader(io.BytesIO(usage)).pages[0].extract_text().replace(" ", "")

    boxes = _certificate_title_box(), _report_title_box(report)
    dark = _dark_pixels(tmp_path, (certificate, boxes[0]), (usage, boxes[1]))
    assert _title_drawn(dark[0], boxes[0]) and _title_drawn(dark[1], boxes[1]), dark


def test_without_a_font_file_the_pdfs_fall_back_to_stsong_which_such_a_viewer_leaves_blank(fallback, tmp_path):
    certificate, report = certificate_pdf.render_certificate(_certificate()), _report()
    usage = usage_report_pdf.render_pdf(report)
    for pdf in (certificate, usage):
        fonts = _fonts(pdf)
        assert fonts and all(f["name"] == "/STSong-Light" and not f["embedded"] for f in fonts), fonts
    boxes = _certificate_title_box(), _report_title_box(report)
    dark = _dark_pixels(tmp_path, (certificate, boxes[0]), (usage, boxes[1]))
    assert not _title_drawn(dark[0], boxes[0]) and not _title_drawn(dark[1], boxes[1]), dark


def test_the_font_has_a_glyph_for_every_character_the_pdfs_print(embedded):
    glyphs = pdfmetrics.getFont(pdf_text.EMBEDDED).face.charToGlyph
    printed = set(string.printable.strip()) | set("〔〕№：；，。、（）“”—％　")
    for module in ("engine/services/certificate_pdf.py", "engine/services/usage_report_pdf.py"):
        printed |= {ch for ch in (ROOT / module).read_text(encoding="utf-8") if ord(ch) > 0x2000}
    printed |= {ch for labels in KIND_LABELS.values() for ch in labels[0]}
    printed |= {ch for kind in CRANE_TYPES.values() for ch in kind["zh"]}
    for region in all_regions():
        printed |= set(region.name) | set(housing_authority(region.code))
    printed |= {ch for value in USE_REGISTRATION.values() if isinstance(value, str) for ch in value}
    missing = sorted(ch for ch in printed if ord(ch) not in glyphs)
    assert not missing, "".join(missing)


def test_rendering_stays_deterministic_with_the_embedded_font(embedded):
    cert = _certificate()
    first = certificate_pdf.render_certificate(cert)
    usage_report_pdf.render_pdf(_report())  # another document using the font in between
    pdf_text.reset()  # and the font registered anew, as in another process
    assert certificate_pdf.render_certificate(cert) == first
