"""The certificate as an A4 PDF: official layout in Chinese (an embedded TrueType font, see
pdf_text), a QR code to the verification portal, and the signed data in the document
information (/CraneFlowData, /CraneFlowSignature) for checking an uploaded copy offline.

Deterministic: the same certificate gives the same bytes (invariant document id, creation date =
issue time), so the SHA-256 recorded at the first download identifies every file handed out.
"""
import io
from datetime import date, datetime, timezone
from hashlib import md5

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

from engine.db import IssuedCertificate

from .certificates import (FILING, KIND_LABELS, b64url, canonical, verification_code, verification_url)
from .pdf_text import chinese_date, chinese_font

DATA_KEY, SIGNATURE_KEY, NUMBER_KEY = "CraneFlowData", "CraneFlowSignature", "CraneFlowNumber"
RED = Color(0.72, 0.09, 0.09)
WIDTH, HEIGHT = A4
MARGIN = 56
QR_MASK = 2


class _CertificateInfo(PDFInfo):
    """Document information with the signed certificate data under keys of our own."""

    def __init__(self, base: PDFInfo, extra: dict[str, str]):
        super().__init__()
        self.__dict__.update(base.__dict__)
        self.extra = extra

    def format(self, document):
        entries = {
            "Title": PDFString(self.title), "Author": PDFString(self.author), "Subject": PDFString(self.subject),
            "Creator": PDFString(self.creator), "Producer": PDFString(self.producer),
            "Keywords": PDFString(self.keywords), "Trapped": PDFName(self.trapped),
        }
        stamp = document._timeStamp
        entries["CreationDate"] = entries["ModDate"] = PDFString(
            "D:%04d%02d%02d%02d%02d%02d+00'00'" % stamp.YMDhms)
        entries.update({key: PDFString(value) for key, value in self.extra.items()})
        return PDFDictionary(entries).format(document)


def _pin_time(canvas: Canvas, when: datetime) -> None:
    """Creation date = issue time, and a document id that depends on the content only."""
    doc = canvas._doc
    moment = when.astimezone(timezone.utc)
    doc._timeStamp.t = moment.timestamp()
    doc._timeStamp.YMDhms = moment.timetuple()[:6]
    doc.signature = md5(b"a reportlab document" + str(int(moment.timestamp())).encode(), usedforsecurity=False)


def _chinese_date(iso: str | None) -> str:
    if not iso:
        return ""
    return chinese_date(date.fromisoformat(iso))


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text or "":
        if pdfmetrics.stringWidth(line + ch, chinese_font(), size) > width and line:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line or not lines else lines


def _rows(data: dict) -> list[tuple[str, str]]:
    rows = [("设备类型", data["crane_type_name"]), ("规格型号", data["model"]), ("制造单位", data["manufacturer"]),
            ("出厂编号", data["factory_serial"]), ("出厂日期", _chinese_date(data["manufacture_date"])),
            ("备案编号", data["record_number"] or ""), ("产权单位", data["owner_name"]),
            ("统一社会信用代码", data["owner_uscc"])]
    if data["kind"] == FILING:
        rows.append(("备案日期", _chinese_date(data.get("filed_on"))))
    else:
        rows += [("使用登记编号", data["registration_number"]), ("登记日期", _chinese_date(data.get("registered_on"))),
                 ("工程项目名称", data["project_name"]), ("工程项目编号", data["project_code"]),
                 ("施工地点", data["site_address"]), ("使用单位", f"{data['user_name']}（{data['user_uscc']}）"),
                 ("安装单位", f"{data['installer_name']}（{data['installer_uscc']}）" if data.get("installer_name")
                  else "—")]
    return rows


def _statement(data: dict) -> str:
    if data["kind"] == FILING:
        return "经审核，上述建筑起重机械符合备案条件，准予备案，特发此证明。"
    return "经审核，上述建筑起重机械安装验收合格，准予使用登记，特发此证明。"


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares: one rectangle per run of dark modules in a row, written as
    PDF operators directly (thousands of path calls would cost more than the rest of the page).
    A fixed mask pattern: choosing the best of eight costs five times the encoding, and any
    mask decodes."""
    matrix = segno.make(url, error="m", micro=False, mask=QR_MASK).matrix
    border = 2
    cell = size / (len(matrix) + 2 * border)
    ops = []
    for r, row in enumerate(matrix):
        top = y + size - (r + 1 + border) * cell
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                ops.append(f"{x + (start + border) * cell:.3f} {top:.3f} {(c - start) * cell:.3f} {cell:.3f} re")
            else:
                c += 1
    canvas.saveState()
    canvas.setFillColor(black)
    canvas.addLiteral("\n".join(ops) + "\nf")
    canvas.restoreState()


def _frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(2.2)
    canvas.rect(MARGIN - 22, MARGIN - 22, WIDTH - 2 * (MARGIN - 22), HEIGHT - 2 * (MARGIN - 22))
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN - 16, MARGIN - 16, WIDTH - 2 * (MARGIN - 16), HEIGHT - 2 * (MARGIN - 16))


def _bold_centered(canvas: Canvas, text: str, size: float, y: float, spacing: float = 0) -> None:
    text_object = canvas.beginText()
    font = chinese_font()
    text_object.setFont(font, size)
    text_object.setCharSpace(spacing)
    text_object.setTextRenderMode(2)  # fill and stroke: the font has no bold face
    width = pdfmetrics.stringWidth(text, font, size) + spacing * (len(text) - 1)
    text_object.setTextOrigin((WIDTH - width) / 2, y)
    text_object.textOut(text)
    canvas.saveState()  # character spacing and render mode outlast the text object otherwise
    canvas.setLineWidth(0.5)
    canvas.drawText(text_object)
    canvas.restoreState()


def _facts_table(canvas: Canvas, rows: list[tuple[str, str]], top: float) -> float:
    """Label / value rows ruled like a form; returns the y below the table."""
    left, right, label_width, size, leading = MARGIN, WIDTH - MARGIN, 118, 11, 16
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.6)
    y = top
    canvas.line(left, y, right, y)
    for label, value in rows:
        lines = _wrap(value, size, right - left - label_width - 16)
        height = max(1, len(lines)) * leading + 10
        canvas.setFont(chinese_font(), size)
        canvas.setFillColor(black)
        canvas.drawString(left + 8, y - 6 - leading + 4, label)
        for i, line in enumerate(lines):
            canvas.drawString(left + label_width + 8, y - 6 - (i + 1) * leading + 4, line)
        canvas.line(left + label_width, y, left + label_width, y - height)
        y -= height
        canvas.line(left, y, right, y)
    canvas.line(left, top, left, y)
    canvas.line(right, top, right, y)
    return y


def render_certificate(cert: IssuedCertificate) -> bytes:
    data = cert.data
    font = chinese_font()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    _pin_time(canvas, cert.issued_at)
    title = KIND_LABELS[cert.kind][0]
    canvas.setTitle(f"{title} {data['printed_number']}")
    canvas.setAuthor(data["authority"])
    canvas.setSubject(title)
    canvas.setCreator("CraneFlow")
    canvas.setProducer("CraneFlow")
    canvas.setKeywords(cert.number)
    canvas._doc.info = _CertificateInfo(canvas._doc.info, {
        DATA_KEY: b64url(canonical(data)), SIGNATURE_KEY: cert.signature, NUMBER_KEY: cert.number})

    _frame(canvas)
    canvas.setFillColor(RED)
    _bold_centered(canvas, title, 26, HEIGHT - MARGIN - 48, spacing=4)
    canvas.setFillColor(black)
    canvas.setFont(font, 12)
    canvas.drawCentredString(WIDTH / 2, HEIGHT - MARGIN - 80, f"编号：{data['printed_number']}")

    bottom = _facts_table(canvas, _rows(data), HEIGHT - MARGIN - 104)
    canvas.setFont(font, 12)
    statement_y = bottom - 30
    canvas.drawString(MARGIN + 24, statement_y, _statement(data))

    # The issuing authority and the date, bottom right; the QR code and its link, bottom left.
    canvas.setFont(font, 13)
    sign_y = MARGIN + 170
    canvas.drawRightString(WIDTH - MARGIN - 10, sign_y, data["authority"])
    canvas.drawRightString(WIDTH - MARGIN - 10, sign_y - 24, _chinese_date(data["issued_on"]))

    qr_size = 104
    url = verification_url(cert)
    _draw_qr(canvas, url, MARGIN, MARGIN + 56, qr_size)
    canvas.setFont(font, 9)
    canvas.drawString(MARGIN + qr_size + 10, MARGIN + 100, "扫描二维码或访问核验页面，核验本证明的真伪和状态。")
    canvas.drawString(MARGIN + qr_size + 10, MARGIN + 84, f"验证码：{verification_code(cert.signature)}")
    canvas.setFont(font, 6.5)
    for i, line in enumerate(_wrap(url, 6.5, WIDTH - 2 * MARGIN)):
        canvas.drawString(MARGIN, MARGIN + 42 - i * 8, line)
    canvas.setFont(font, 8)
    canvas.drawCentredString(WIDTH / 2, MARGIN - 8,
                             "本证明由建筑起重机械监管系统签发，证明信息以核验页面显示的状态为准。")
    canvas.showPage()
    canvas.save()
    return out.getvalue()
