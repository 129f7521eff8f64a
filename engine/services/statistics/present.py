"""How section rows are shown: one table of display values (region and type names, percentages,
dates) that the page, the CSV and the XLSX all use, and the chart's series."""
import csv
import io

from engine.domain.cranes import CRANE_TYPES
from engine.domain.regions import get_region
from forms.messages import pick

from .base import Section
from .overdue import BUCKETS, overdue_bucket

INSTRUMENTS = {"none": ("无", "None"), "rectification": ("整改通知书", "Rectification notice"),
               "stop_work": ("停工整改通知书", "Stop-work notice"), "stop_use": ("停止使用", "Stop-use order")}
TOTAL = ("合计", "Total")


def region_label(code: str | None) -> str:
    region = get_region(code) if code else None
    return (pick((region.name, region.name_en)) if region else code) or ""


def display(kind: str, value, row: dict | None = None):
    """A value as the table shows it: names for codes, numbers as numbers, "" for none."""
    if value is None:
        return pick(TOTAL) if kind == "month" and row and row.get("is_total") else ""
    if kind == "region":
        return pick(TOTAL) + f"（{region_label(value)}）" if row and row.get("is_total") else region_label(value)
    if kind == "crane_type":
        entry = CRANE_TYPES.get(value)
        return pick((entry["zh"], entry["en"])) if entry else value
    if kind == "instrument":
        return pick(INSTRUMENTS.get(value, (value, value)))
    if kind == "date":
        return value.isoformat()
    return value


def _cell(value):
    """Text that a spreadsheet would take for a formula (=, +, -, @) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export_rows(section: Section, rows: list[dict]) -> list[list]:
    return [[_cell(v) for v in values] for values in table(section, rows)]


def header(section: Section) -> list[str]:
    return [pick(c.title) for c in section.columns]


def table(section: Section, rows: list[dict]) -> list[list]:
    return [[display(c.kind, row.get(c.key), row) for c in section.columns] for row in rows]


def chart(section: Section, rows: list[dict]) -> dict:
    """{"type", "stack", "categories": [...], "series": [{"name", "data"}]}: rows of a category add up;
    total rows stay out."""
    spec = section.chart
    if section.name == "overdue":
        counts = {label: 0 for _, label in BUCKETS}
        for row in rows:
            counts[overdue_bucket(row["days_overdue"])] += 1
        return {"type": "bar", "stack": False, "categories": list(counts),
                "series": [{"name": pick(("逾期文书（天）", "Overdue notices (days)")), "data": list(counts.values())}]}
    kind = next(c.kind for c in section.columns if c.key == spec.category)
    sums: dict[str, list] = {}
    for row in rows:
        if row.get("is_total"):
            continue
        values = sums.setdefault(display(kind, row.get(spec.category)), [None] * len(spec.series))
        for i, key in enumerate(spec.series):
            if row.get(key) is not None:
                values[i] = (values[i] or 0) + row[key]
    titles = {c.key: pick(c.title) for c in section.columns}
    return {"type": spec.type, "stack": spec.stack, "categories": list(sums),
            "series": [{"name": titles[key], "data": [v[i] for v in sums.values()]}
                       for i, key in enumerate(spec.series)]}


def csv_bytes(section: Section, rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(section))
    writer.writerows(_export_rows(section, rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(section: Section, rows: list[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = pick(section.title)[:31]
    sheet.append(header(section))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in _export_rows(section, rows):
        sheet.append(values)
    sheet.freeze_panes = "A2"
    for i, title in enumerate(header(section), start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = max(10, 2 * len(title) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
