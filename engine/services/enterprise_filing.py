"""Enterprise filing (企业申报): operators of its BPMN, and the self-service sign-up before it.

The approved record changes only on approval: what the enterprise submits is kept as the case's
FilingSubmission until the regulator decides, so a change to an approved filing is reviewed
before it takes effect.
"""
from datetime import date

from sqlalchemy import select

from engine.bpmn.runtime import OperatorCall
from engine.db import Enterprise, EnterpriseDocument, EnterpriseRole, EnterpriseStaff, ProcessInstance, User
from engine.errors import Conflict, InvalidInput
from forms import pick, t
from forms.enterprise import ROLE_LABELS, EnterpriseFilingSchema

from .accounts import hash_password
from .attachments import check_documents_owned, link_to_case
from .operators import operator
from .submissions import another_running_case, keep_submission, submitted_data

FILING_FIELDS = tuple(EnterpriseFilingSchema().fields)
DATE_FIELDS = ("qualification_valid_until", "safety_licence_valid_until")
COLUMNS = ("name", "region_code", "address", "legal_representative", "legal_representative_id",
           "contact_person", "contact_phone", "integrated", "qualification_no", "qualification_category",
           "qualification_grade", "qualification_valid_until", "safety_licence_no",
           "safety_licence_valid_until", "technical_lead", "partner_installer_uscc")


def register_enterprise(session, *, data: dict) -> User:
    """Create a signed-up (not yet filed) enterprise and its first account."""
    errors = {}
    if session.scalar(select(Enterprise.id).where(Enterprise.uscc == data["uscc"])) is not None:
        errors["uscc"] = [t("uscc_taken")]
    if session.scalar(select(User.id).where(User.username == data["username"])) is not None:
        errors["username"] = [t("username_taken")]
    if errors:
        raise InvalidInput(errors)
    enterprise = Enterprise(name=data["enterprise_name"], uscc=data["uscc"], region_code=data["region_code"],
                            status="unfiled")
    session.add(enterprise)
    session.flush()
    # The signing-up account administers the enterprise's other accounts.
    user = User(username=data["username"], display_name=data["display_name"], kind="enterprise",
                enterprise_id=enterprise.id, password_hash=hash_password(data["password"]), account_admin=True)
    session.add(user)
    session.flush()
    return user


def _enterprise(call: OperatorCall) -> Enterprise:
    return call.context.session.get(Enterprise, call.context.instance.applicant_enterprise_id)


def _check_partner(session, uscc: str) -> None:
    partner = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if partner is None:
        raise InvalidInput({"partner_installer_uscc": [t("party_unknown")]})
    if partner.status != "approved":
        raise InvalidInput({"partner_installer_uscc": [t("party_not_approved")]})
    if "installer" not in partner.roles:
        raise InvalidInput({"partner_installer_uscc": [t("party_lacks_role", role=pick(ROLE_LABELS["installer"]))]})


@operator("enterprise_filing.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    filing = {name: data.pop(name) for name in FILING_FIELDS if name in data}
    enterprise = _enterprise(call)
    if filing["uscc"] != enterprise.uscc:
        raise InvalidInput({"uscc": [t("uscc_mismatch")]})
    if filing.get("partner_installer_uscc"):
        _check_partner(ctx.session, filing["partner_installer_uscc"])
    check_documents_owned(ctx.session, enterprise.id, filing["documents"])
    link_to_case(ctx.session, ctx.instance.id, filing["documents"])
    if another_running_case(ctx, "enterprise_filing", ProcessInstance.applicant_enterprise_id == enterprise.id):
        raise Conflict("an enterprise filing of this enterprise is already under review")
    keep_submission(ctx, "enterprise_filing", filing)
    if enterprise.status != "approved":
        enterprise.status = "pending"
    change = "变更" if enterprise.status == "approved" else ""
    ctx.instance.subject_type, ctx.instance.subject_id = "enterprise", enterprise.id
    ctx.instance.title = f"企业申报{change}：{filing['name']}"
    data["enterprise_id"] = enterprise.id
    return {"enterprise_id": enterprise.id}


@operator("enterprise_filing.approve")
def approve(call: OperatorCall) -> dict:
    ctx = call.context
    enterprise = _enterprise(call)
    filing = submitted_data(ctx.session, ctx.instance.id)
    for name in DATE_FIELDS:
        if filing.get(name):
            filing[name] = date.fromisoformat(filing[name])
    for name in COLUMNS:
        setattr(enterprise, name, filing.get(name))
    enterprise.role_rows = [EnterpriseRole(role=r) for r in dict.fromkeys(filing["roles"])]
    for staff in ctx.session.scalars(select(EnterpriseStaff).where(EnterpriseStaff.enterprise_id == enterprise.id)):
        ctx.session.delete(staff)
    for row in filing.get("safety_staff") or ():
        ctx.session.add(EnterpriseStaff(enterprise_id=enterprise.id, name=row["name"],
                                        certificate_no=row["certificate_no"],
                                        valid_until=date.fromisoformat(row["valid_until"]) if row.get("valid_until") else None))
    for doc in ctx.session.scalars(select(EnterpriseDocument).where(EnterpriseDocument.enterprise_id == enterprise.id)):
        ctx.session.delete(doc)
    ctx.session.flush()
    for doc_type, ids in filing["documents"].items():
        for attachment_id in ids:
            ctx.session.add(EnterpriseDocument(enterprise_id=enterprise.id, attachment_id=attachment_id,
                                               doc_type=doc_type))
    enterprise.status, enterprise.approved_at = "approved", ctx.now
    ctx.instance.outcome = "approved"
    return {"enterprise_id": enterprise.id}


@operator("enterprise_filing.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    enterprise = _enterprise(call)
    if enterprise.status != "approved":
        enterprise.status = "returned"
    return {"reason": call.data.get("reason", "")}


@operator("enterprise_filing.reject")
def reject(call: OperatorCall) -> dict:
    enterprise = _enterprise(call)
    if enterprise.status != "approved":  # a refused change leaves the approved filing in force
        enterprise.status = "rejected"
    call.context.instance.outcome = "rejected"
    return {"reason": call.data.get("reason", "")}


def enterprise_form_data(session, instance: ProcessInstance) -> dict:
    """The enterprise's current record as filing form data (the starting point of a change)."""
    enterprise = session.get(Enterprise, instance.applicant_enterprise_id)
    data = {name: getattr(enterprise, name) for name in COLUMNS}
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v is not None}
    data["uscc"] = enterprise.uscc
    data["roles"] = sorted(enterprise.roles)
    return data
