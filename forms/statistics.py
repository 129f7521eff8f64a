"""Query string of the statistics dashboard, its exports and its API. Whether the region lies within
the caller's jurisdiction and which periods exist is the service's to say
(engine/services/statistics)."""
from marshmallow import ValidationError, fields

from .base import BaseSchema, Length
from .messages import t


def _region_code(value: str) -> None:
    if len(value) != 6 or not value.isdigit():
        raise ValidationError(t("region_unknown"))


class StatisticsQuery(BaseSchema):
    region = fields.String(load_default=None, validate=_region_code)
    period = fields.String(load_default=None, validate=Length(1, 8))
