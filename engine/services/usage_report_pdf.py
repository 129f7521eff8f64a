"""The usage report as a PDF document (A4 landscape, Chinese): title, issuing authority, period, summary
with the ranking, the table per region with its total, the table per procedure, notes, the date issued
and page numbers, in the embedded Chinese font of pdf_text."""
import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from .pdf_text import chinese_date, chinese_font
from .settings import CHINA_TZ
from .usage_report import Figures, UsageReport

HEADS = ("受理\n（件）", "办结\n（件）", "审核任务\n（件）", "用时中位数\n（工作日）", "用时P90\n（工作日）",
         "按时\n办结率", "超期未办\n任务（件）", "逾期案件\n（件）")
HIGHLIGHT = colors.HexColor("#fff1d6")
HEAD_BG = colors.HexColor("#e8edf4")


def _styles(font: str) -> dict:
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER),
        "sub": ParagraphStyle("sub", fontName=font, fontSize=11, leading=16, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12.5, leading=18, spaceBefore=6, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, firstLineIndent=21, wordWrap="CJK"),
        "note": ParagraphStyle("note", fontName=font, fontSize=8.5, leading=13),
        "sign": ParagraphStyle("sign", fontName=font, fontSize=11, leading=18, alignment=TA_RIGHT),
    }


def _share(f: Figures) -> str:
    return "—" if f.within_share is None else f"{f.within_share * 100:.1f}%"


def _days(value) -> str:
    return "—" if value is None else f"{value:g}"


def _cells(f: Figures) -> list[str]:
    return [str(f.started), str(f.completed), str(f.reviews), _days(f.median_days), _days(f.p90_days), _share(f),
            str(f.overdue_tasks), str(f.overdue_cases)]


def _table(rows: list[list[str]], widths, highlighted=(), bold_last=False, *, font: str) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
             ("FONTSIZE", (0, 0), (-1, 0), 8.5), ("LEADING", (0, 0), (-1, 0), 11),
             ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a94a3")),
             ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("ALIGN", (1, 0), (-1, -1), "CENTER"),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 2),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    for index in highlighted:
        style.append(("BACKGROUND", (0, index), (-1, index), HIGHLIGHT))
    if bold_last:
        style += [("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f4f7")),
                  ("LINEABOVE", (0, -1), (-1, -1), 1, colors.black)]
    table.setStyle(TableStyle(style))
    return table


def _summary(report: UsageReport) -> str:
    t = report.total.total
    text = (f"{chinese_date(report.period.start)}至{chinese_date(report.period.end)}，全辖区通过建筑起重机械"
            f"监管系统受理各类业务 {t.started} 件，网上办结 {report.cases_online} 件；监管部门办理审核任务 {t.reviews} 件，"
            f"审核用时中位数 {_days(t.median_days)} 个工作日，按时办结率 {_share(t)}；期末超期未办审核任务 "
            f"{t.overdue_tasks} 件，逾期案件 {t.overdue_cases} 件；期内在系统中办理业务的监管人员 "
            f"{report.total.active_regulators} 人。")
    if report.ranking:
        named = "、".join(f"{row.name()}（{_share(row.total)}）" for row in report.ranking)
        text += f"按时办结率排名靠后的是：{named}，请相关地区加强审核时限管理，及时办理超期事项。"
    return escape(text)


def render_pdf(report: UsageReport) -> bytes:
    font = chinese_font()
    styles = _styles(font)
    buffer = io.BytesIO()
    page_width, _ = landscape(A4)
    margin = 15 * mm
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=margin, rightMargin=margin,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=report.title(),
                            author=report.issuer(), subject="使用情况通报", creator="CraneFlow")
    usable = page_width - 2 * margin
    first, rest = 44 * mm, (usable - 44 * mm - 24 * mm) / len(HEADS)
    issued = report.generated_at.astimezone(CHINA_TZ).date()

    story = [Paragraph(escape(report.title()), styles["title"]),
             Paragraph(escape(f"{report.issuer()}　　统计期间：{report.period.start.isoformat()} 至 "
                              f"{report.period.end.isoformat()}"), styles["sub"]),
             Spacer(1, 3 * mm), Paragraph("一、总体情况", styles["h2"]), Paragraph(_summary(report), styles["body"]),
             Paragraph("二、各地区使用情况", styles["h2"])]

    rows = [["地区", *HEADS, "活跃监管\n人员（人）"]]
    highlighted = []
    for row in report.rows:
        if row.lowest:
            highlighted.append(len(rows))
        rows.append([row.name() + ("（偏低）" if row.lowest else ""), *_cells(row.total), str(row.active_regulators)])
    rows.append(["合计", *_cells(report.total.total), str(report.total.active_regulators)])
    story.append(_table(rows, [first] + [rest] * len(HEADS) + [24 * mm], highlighted, bold_last=True, font=font))

    story.append(Paragraph("三、分业务办理情况", styles["h2"]))
    rows = [["业务", *HEADS]]
    for key in report.procedures:
        rows.append([Paragraph(escape(report.procedure_name(key)), styles["note"]),
                     *_cells(report.total.procedures[key])])
    wide = 68 * mm
    story.append(_table(rows, [wide] + [(usable - wide) / len(HEADS)] * len(HEADS), font=font))

    story += [Spacer(1, 4 * mm), Paragraph(
        "说明：审核用时按工作日计（法定节假日及调休按国务院安排）；按时办结率为期内办结的审核任务中在法定时限内办结的比例；"
        "超期未办任务为期末仍未办理且已超过法定时限的审核任务；逾期案件为期末被标记逾期且尚未办结的案件；"
        "活跃监管人员为期内在系统中办理过业务的监管人员；网上办结为期内在系统中办结的案件。", styles["note"]),
        Spacer(1, 8 * mm), Paragraph(escape(report.issuer()), styles["sign"]),
        Paragraph(chinese_date(issued), styles["sign"])]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(page_width / 2, 8 * mm, f"第 {document.page} 页")
        canvas.drawRightString(page_width - margin, 8 * mm, f"生成日期：{issued.isoformat()}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
