"""Registering special-operations personnel and safety managers with their certificates."""
from marshmallow import ValidationError, fields, validates_schema

from engine.domain import personnel as rules
from engine.domain.resident_id import age_on

from .base import BaseSchema, OneOf, text
from .fields import PastDate, ResidentId
from .messages import t

KINDS = ("special_operation", "safety_manager")
CATEGORIES = tuple(rules.SPECIAL_OPERATION_CATEGORIES) + tuple(rules.SAFETY_MANAGER_CATEGORIES)


class CertificateSchema(BaseSchema):
    kind = fields.String(required=True, validate=OneOf(KINDS), metadata={
        "title": ("证书类型", "Certificate type"),
        "labels": {"special_operation": ("特种作业操作资格证书", "Special-operations certificate"),
                   "safety_manager": ("安全生产考核合格证书（安管）", "Safety manager certificate")}})
    category = fields.String(required=True, validate=OneOf(CATEGORIES), metadata={"title": ("类别 / 工种代码", "Category")})
    number = text(40, title=("证书编号", "Certificate no."))
    issuer = text(100, title=("发证机关", "Issued by"))
    issued_on = PastDate(load_default=None, allow_none=True, metadata={"title": ("发证日期", "Issued on")})
    valid_until = fields.Date(required=True, metadata={"title": ("有效期至", "Valid until")})

    @validates_schema
    def _number_and_category(self, data, **kwargs):
        kind, category = data.get("kind"), data.get("category")
        if not kind or not category:
            return
        allowed = rules.SPECIAL_OPERATION_CATEGORIES if kind == "special_operation" else rules.SAFETY_MANAGER_CATEGORIES
        if category not in allowed:
            raise ValidationError({"category": [t("certificate_category_kind")]})
        problem = rules.number_problem(kind, category, data.get("number", ""))
        if problem:
            raise ValidationError({"number": [t(f"certificate_{problem}")]})
        if data.get("issued_on") and data["valid_until"] < data["issued_on"]:
            raise ValidationError({"valid_until": [t("certificate_valid_before_issue")]})


class PersonSchema(BaseSchema):
    name = text(64, title=("姓名", "Name"))
    id_number = ResidentId(required=True, metadata={"title": ("身份证号", "Resident ID number")})
    certificates = fields.List(fields.Nested(CertificateSchema), load_default=list,
                               metadata={"title": ("证书", "Certificates")})

    @validates_schema
    def _adult_at_issue(self, data, **kwargs):
        for index, cert in enumerate(data.get("certificates") or ()):
            if cert.get("issued_on") and data.get("id_number") and age_on(data["id_number"], cert["issued_on"]) < 18:
                raise ValidationError({"certificates": {index: {"issued_on": [t("certificate_under_age")]}}})
