"""Query strings and bodies of the admin process studio API."""
from marshmallow import fields

from .base import BaseSchema, Length, Range

VERSION = Range(1, 100000)


class ModelQuery(BaseSchema):
    """A model sent as the raw XML body names its file here (the catalog's file name by default)."""

    file_name = fields.String(load_default=None, validate=Length(1, 200))


class VersionPairQuery(BaseSchema):
    from_version = fields.Integer(required=True, data_key="from", validate=VERSION)
    to_version = fields.Integer(required=True, data_key="to", validate=VERSION)


class MigrationRequest(BaseSchema):
    from_version = fields.Integer(required=True, validate=VERSION)
    to_version = fields.Integer(required=True, validate=VERSION)
    case_ids = fields.List(fields.Integer(validate=Range(1, 2**31 - 1)), required=True, validate=Length(1, 1000))
