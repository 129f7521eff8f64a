"""Schemas for the JSON API's own request bodies and query strings."""
from marshmallow import fields

from .base import BaseSchema, Length, OneOf, Range, text


class SessionRequest(BaseSchema):
    username = text(64, title=("用户名", "Username"))
    password = fields.String(required=True, validate=Length(1, 256))


class StartCaseRequest(BaseSchema):
    process_key = text(64, title=("业务流程", "Procedure"))
    data = fields.Dict(load_default=None, allow_none=True)


class CompleteTaskRequest(BaseSchema):
    data = fields.Dict(required=True)


class TaskQuery(BaseSchema):
    process_key = fields.String(load_default=None, validate=Length(1, 64))
    status = fields.String(load_default="open", validate=OneOf(("open", "completed")))
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))


class ListQuery(BaseSchema):
    page = fields.Integer(load_default=1, validate=Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
    status = fields.String(load_default=None, validate=Length(1, 32))
