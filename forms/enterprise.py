"""Enterprise filing (企业申报, domain.md §1) and the self-service sign-up that precedes it."""
import re

from marshmallow import ValidationError, fields, validates_schema

from .base import BaseSchema, Length, OneOf, TrimmedString, text
from .fields import AttachmentIds, FutureDate, HubeiRegion, Phone, ResidentId, Uscc
from .messages import t

ENTERPRISE_ROLE_CHOICES = ("owner", "installer", "user", "supervisor", "inspector", "maintenance")
ROLE_LABELS = {
    "owner": ("产权（出租）单位", "Owner / lessor"), "installer": ("安装单位", "Installer"),
    "user": ("使用单位（施工总承包）", "User (general contractor)"), "supervisor": ("监理单位", "Supervision firm"),
    "inspector": ("检验检测机构", "Inspection body"), "maintenance": ("维保单位", "Maintenance"),
}
# (鄂)JZ安许证字〔2024〕000123 — half- or full-width brackets accepted.
LICENCE = re.compile(r"^[（(][\u4e00-\u9fa5][)）]JZ安许证字[〔\[]\d{4}[〕\]]\d{6}$")
# 鄂建安C1(2015)0000001 — A/B/C1/C2/C3 certificates of safety managers.
STAFF_CERTIFICATE = re.compile(r"^[\u4e00-\u9fa5]建安(A|B|C1|C2|C3)[（(]\d{4}[)）]\d{7}$")


class SafetyStaffSchema(BaseSchema):
    name = text(64, title=("姓名", "Name"))
    certificate_no = TrimmedString(required=True, validate=Length(1, 40),
                                   metadata={"title": ("安管证书编号", "Certificate no.")})
    valid_until = FutureDate(load_default=None, allow_none=True, metadata={"title": ("有效期至", "Valid until")})

    @validates_schema
    def _certificate_format(self, data, **kwargs):
        if data.get("certificate_no") and not STAFF_CERTIFICATE.match(data["certificate_no"]):
            raise ValidationError({"certificate_no": [t("staff_certificate_format")]})


class EnterpriseDocumentsSchema(BaseSchema):
    business_licence = AttachmentIds(required=True, metadata={"title": ("营业执照", "Business licence")})
    qualification_certificate = AttachmentIds(load_default=list, metadata={"title": ("资质证书", "Qualification certificate")})
    safety_licence = AttachmentIds(load_default=list, metadata={"title": ("安全生产许可证", "Safety production licence")})
    other = AttachmentIds(load_default=list, metadata={"title": ("其他材料", "Other documents")})

    @validates_schema
    def _licence_present(self, data, **kwargs):
        if "business_licence" in data and not data["business_licence"]:
            raise ValidationError({"business_licence": [t("required")]})


class EnterpriseFilingSchema(BaseSchema):
    name = text(200, title=("企业名称", "Enterprise name"))
    uscc = Uscc(required=True, metadata={"title": ("统一社会信用代码", "Unified social credit code")})
    region_code = HubeiRegion(required=True, metadata={"title": ("注册地行政区划代码", "Registered region code")})
    address = text(300, title=("注册地址", "Registered address"))
    legal_representative = text(64, title=("法定代表人", "Legal representative"))
    legal_representative_id = ResidentId(required=True, metadata={"title": ("法定代表人身份证号", "Legal representative's ID number")})
    contact_person = text(64, title=("联系人", "Contact person"))
    contact_phone = Phone(required=True, metadata={"title": ("联系电话", "Contact phone")})
    roles = fields.List(fields.String(validate=OneOf(ENTERPRISE_ROLE_CHOICES)), required=True,
                        metadata={"title": ("企业类型", "Enterprise roles"), "labels": ROLE_LABELS})
    integrated = fields.Boolean(load_default=False, metadata={"title": ("租赁、安装、维保一体化企业", "Integrated rental, installation and maintenance")})
    partner_installer_uscc = Uscc(load_default=None, allow_none=True, metadata={
        "title": ("合作安装单位统一社会信用代码（一体化企业无安装资质时填写）",
                  "Partner installer's credit code (integrated firm without its own installation qualification)")})
    qualification_no = text(64, required=False, load_default=None, allow_none=True, title=("资质证书编号", "Qualification certificate no."))
    qualification_category = text(100, required=False, load_default=None, allow_none=True, title=("资质类别", "Qualification category"))
    qualification_grade = text(32, required=False, load_default=None, allow_none=True, title=("资质等级", "Qualification grade"))
    qualification_valid_until = FutureDate(load_default=None, allow_none=True, metadata={"title": ("资质有效期至", "Qualification valid until")})
    safety_licence_no = text(64, required=False, load_default=None, allow_none=True, title=("安全生产许可证编号", "Safety production licence no."))
    safety_licence_valid_until = FutureDate(load_default=None, allow_none=True, metadata={"title": ("安全生产许可证有效期至", "Licence valid until")})
    technical_lead = text(64, title=("技术负责人", "Technical lead"))
    safety_staff = fields.List(fields.Nested(SafetyStaffSchema), load_default=list,
                               metadata={"title": ("专职安全生产管理人员", "Full-time safety staff")})
    documents = fields.Nested(EnterpriseDocumentsSchema, required=True, metadata={"title": ("申报材料", "Documents")})

    @validates_schema
    def _rules(self, data, **kwargs):
        errors = {}
        roles = data.get("roles")
        if roles is not None and not roles:
            errors["roles"] = [t("roles_required")]
        if data.get("safety_licence_no") and not LICENCE.match(data["safety_licence_no"]):
            errors["safety_licence_no"] = [t("licence_format")]
        if "installer" in (roles or ()):
            for name in ("qualification_no", "qualification_valid_until", "safety_licence_no",
                         "safety_licence_valid_until"):
                if not data.get(name):
                    errors.setdefault(name, [t("installer_needs_licence")])
        if data.get("integrated"):
            if roles is not None and "owner" not in roles:
                errors.setdefault("roles", [t("integrated_needs_owner")])
            if roles is not None and "installer" not in roles and not data.get("partner_installer_uscc"):
                errors["partner_installer_uscc"] = [t("integrated_needs_installer")]
        elif data.get("partner_installer_uscc"):
            errors["partner_installer_uscc"] = [t("partner_only_integrated")]
        if data.get("partner_installer_uscc") and data.get("partner_installer_uscc") == data.get("uscc"):
            errors["partner_installer_uscc"] = [t("partner_is_self")]
        if len(data.get("safety_staff") or ()) > 50:
            errors["safety_staff"] = [t("length_max", max=50)]
        if errors:
            raise ValidationError(errors)


class SignUpSchema(BaseSchema):
    """Self-service sign-up: the enterprise's identity and its first (administrator) account."""

    enterprise_name = text(200, title=("企业名称", "Enterprise name"))
    uscc = Uscc(required=True, metadata={"title": ("统一社会信用代码", "Unified social credit code")})
    region_code = HubeiRegion(required=True, metadata={"title": ("注册地行政区划代码", "Registered region code")})
    username = TrimmedString(required=True, validate=Length(3, 64), metadata={"title": ("用户名", "Username")})
    display_name = text(100, title=("姓名", "Your name"))
    password = fields.String(required=True, validate=Length(1, 256), metadata={"title": ("密码", "Password")})

    @validates_schema
    def _password_policy(self, data, **kwargs):
        password = data.get("password") or ""
        if len(password) < 10 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError({"password": [t("password_policy")]})
        if data.get("username") and not re.match(r"^[A-Za-z0-9_.-]+$", data["username"]):
            raise ValidationError({"username": [t("invalid")]})
