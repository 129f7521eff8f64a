"""Crane record filing form (domain.md §2.1, §3)."""
from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, OneOf, Range, text
from .fields import AttachmentIds, PastDate, StrictFloat
from .messages import t

CRANE_TYPE_CHOICES = ("tower_crane", "construction_hoist", "material_hoist", "gantry_crane")
HOIST_DRIVES = ("SC", "SS", "SH")
REQUIRED_DOCUMENTS = ("manufacturing_licence", "product_certificate", "supervision_certificate",
                      "ownership_proof")
OPTIONAL_DOCUMENTS = ("assessment_report", "photo")


class FilingDocumentsSchema(BaseSchema):
    manufacturing_licence = AttachmentIds(required=True, metadata={"title": ("特种设备制造许可证", "Manufacturing licence")})
    product_certificate = AttachmentIds(required=True, metadata={"title": ("产品合格证", "Product certificate")})
    supervision_certificate = AttachmentIds(required=True, metadata={"title": ("制造监督检验证明", "Supervision inspection certificate")})
    ownership_proof = AttachmentIds(required=True, metadata={"title": ("产权证明", "Proof of ownership")})
    assessment_report = AttachmentIds(load_default=list, metadata={"title": ("安全评估报告", "Safety assessment report")})
    photo = AttachmentIds(load_default=list, metadata={"title": ("设备照片", "Photos")})

    @validates_schema
    def _required_not_empty(self, data, **kwargs):
        errors = {name: [t("required")] for name in REQUIRED_DOCUMENTS if name in data and not data[name]}
        if errors:
            raise ValidationError(errors)


class CraneFilingSchema(BaseSchema):
    crane_type = fields.String(required=True, validate=OneOf(CRANE_TYPE_CHOICES),
                               metadata={"title": ("设备类型", "Crane type")})
    model = text(64, title=("规格型号", "Model"))
    manufacturer = text(200, title=("制造厂家", "Manufacturer"))
    manufacturing_licence_no = text(64, title=("制造许可证编号", "Manufacturing licence no."))
    manufacturing_licence_valid_until = fields.Date(load_default=None, allow_none=True,
                                                    metadata={"title": ("制造许可证有效期至", "Licence valid until")})
    factory_serial = text(64, title=("出厂编号", "Factory serial no."))
    manufacture_date = PastDate(required=True, metadata={"title": ("出厂日期", "Manufacture date")})
    design_life_years = fields.Integer(load_default=None, allow_none=True, strict=True, validate=Range(1, 50),
                                       metadata={"title": ("设计使用年限（年）", "Design life (years)")})
    rated_moment_knm = StrictFloat(load_default=None, allow_none=True, validate=Range(1, 20000), allow_nan=False,
                                    metadata={"title": ("额定起重力矩（kN·m）", "Rated moment (kN·m)")})
    rated_load_kg = fields.Integer(load_default=None, allow_none=True, strict=True, validate=Range(1, 200000),
                                   metadata={"title": ("额定载重量（kg）", "Rated load (kg)")})
    max_height_m = StrictFloat(load_default=None, allow_none=True, validate=Range(1, 1000), allow_nan=False,
                                metadata={"title": ("最大安装高度（m）", "Max. erected height (m)")})
    hoist_drive = fields.String(load_default=None, allow_none=True, validate=OneOf(HOIST_DRIVES),
                                metadata={"title": ("升降机驱动型式", "Hoist drive")})
    product_certificate_no = text(64, title=("产品合格证编号", "Product certificate no."))
    supervision_certificate_no = text(64, title=("制造监督检验证明编号", "Supervision certificate no."))
    purchase_date = PastDate(load_default=None, allow_none=True, metadata={"title": ("购置日期", "Purchase date")})
    documents = fields.Nested(FilingDocumentsSchema, required=True, metadata={"title": ("申报材料", "Documents")})

    @validates_schema
    def _cross_field_rules(self, data, **kwargs):
        errors = {}
        crane_type = data.get("crane_type")
        if crane_type == "tower_crane" and not data.get("rated_moment_knm"):
            errors["rated_moment_knm"] = [t("rated_moment_required")]
        if crane_type == "construction_hoist" and not data.get("hoist_drive"):
            errors["hoist_drive"] = [t("hoist_drive_required")]
        made, bought = data.get("manufacture_date"), data.get("purchase_date")
        if made and bought and bought < made:
            errors["purchase_date"] = [t("purchase_before_manufacture")]
        if errors:
            raise ValidationError(errors)

