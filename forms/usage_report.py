"""The usage report's query: a period (dates, or a month, quarter or year; the last full month when none
is given) and the region reported on."""
import re
from datetime import date

from marshmallow import ValidationError, fields, post_load, validates_schema

from engine.services.usage_report import Period, last_full_month

from .base import BaseSchema, Length, Range
from .fields import today_in_china
from .messages import pick, t

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
FIELD_TITLES = {"from": ("开始日期", "Start date"), "to": ("结束日期", "End date"), "month": ("月份", "Month"),
                "quarter": ("季度", "Quarter"), "year": ("年度", "Year"), "region": ("地区", "Region")}


def _title(name: str):
    return {"title": FIELD_TITLES[name]}


class UsageReportQuery(BaseSchema):
    date_from = fields.Date(data_key="from", load_default=None, metadata=_title("from"))
    date_to = fields.Date(data_key="to", load_default=None, metadata=_title("to"))
    month = fields.String(load_default=None, validate=Length(1, 7), metadata=_title("month"))
    quarter = fields.String(load_default=None, validate=Length(1, 7), metadata=_title("quarter"))
    year = fields.Integer(load_default=None, validate=Range(2000, 2100), metadata=_title("year"))
    region = fields.String(load_default=None, validate=Length(6, 6), metadata=_title("region"))

    def load(self, data, *args, **kwargs):
        # An empty form field means "not given" (the page's form always sends every field).
        if hasattr(data, "items"):
            data = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return super().load(data, *args, **kwargs)

    @validates_schema
    def _one_period(self, data, **kwargs):
        dates = data.get("date_from") is not None or data.get("date_to") is not None
        chosen = [name for name, given in (("from", dates), ("month", data.get("month") is not None),
                                           ("quarter", data.get("quarter") is not None),
                                           ("year", data.get("year") is not None)) if given]
        if len(chosen) > 1:
            raise ValidationError({chosen[1]: [t("report_one_period")]})
        if dates:
            start, end = data.get("date_from"), data.get("date_to")
            if start is None or end is None:
                raise ValidationError({"from" if start is None else "to": [t("report_dates_pair")]})
            if start > end:
                raise ValidationError({"from": [t("report_from_after_to")]})
            if end >= _one_year_after(start):
                raise ValidationError({"to": [t("report_too_long")]})
        if data.get("month") is not None:
            found = _MONTH.match(data["month"])
            if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
                raise ValidationError({"month": [t("report_month_format")]})
        if data.get("quarter") is not None:
            found = _QUARTER.match(data["quarter"])
            if not found or not 2000 <= int(found.group(1)) <= 2100:
                raise ValidationError({"quarter": [t("report_quarter_format")]})

    @post_load
    def _period(self, data, **kwargs):
        if data["date_from"] is not None:
            period = Period.between(data["date_from"], data["date_to"])
        elif data["month"] is not None:
            year, month = _MONTH.match(data["month"]).groups()
            period = Period.month(int(year), int(month))
        elif data["quarter"] is not None:
            year, quarter = _QUARTER.match(data["quarter"]).groups()
            period = Period.quarter(int(year), int(quarter))
        elif data["year"] is not None:
            period = Period.year(data["year"])
        else:
            period = last_full_month(today_in_china())
        return {"period": period, "region": data["region"]}


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def error_lines(errors: dict) -> list[str]:
    """Each problem as "field title: message", in the request language."""
    lines = []
    for name, messages in errors.items():
        title = pick(FIELD_TITLES.get(name)) or name
        for message in messages if isinstance(messages, list) else [messages]:
            lines.append(f"{title}：{message}" if title else message)
    return lines
