"""Query of the data-exchange pull API (GET /api/v1/exchange/changes)."""
from marshmallow import fields

from .base import BaseSchema, Range

MAX_CURSOR = 2**31 - 1
MAX_LIMIT = 500


class ChangesQuery(BaseSchema):
    after = fields.Integer(load_default=0, validate=Range(0, MAX_CURSOR),
                           metadata={"title": ("游标（上次返回的 next_cursor）", "Cursor (the last next_cursor)")})
    limit = fields.Integer(load_default=100, validate=Range(1, MAX_LIMIT),
                           metadata={"title": ("每页条数", "Records per page")})
