"""Reading crane records, scoped to the user; and the filing form pre-filled from a crane."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Crane, ProcessInstance, Project, User
from engine.errors import NotFound

from .access import can_see_case, can_see_crane, crane_filter


def list_cranes(session: Session, *, user: User, status: str | None = None, page: int = 1,
                per_page: int = 20) -> tuple[list[Crane], int]:
    condition = crane_filter(user)
    if status:
        condition = condition & (Crane.status == status)
    total = session.scalar(select(func.count()).select_from(Crane).where(condition))
    rows = session.scalars(select(Crane).where(condition).order_by(Crane.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def get_crane(session: Session, *, user: User, crane_id: int) -> Crane:
    crane = session.get(Crane, crane_id)
    if crane is None or not can_see_crane(user, crane, session):
        raise NotFound("crane not found")
    return crane


def crane_cases(session: Session, *, user: User, crane: Crane) -> list[ProcessInstance]:
    rows = session.scalars(select(ProcessInstance).where(
        ProcessInstance.subject_type == "crane", ProcessInstance.subject_id == crane.id)
        .order_by(ProcessInstance.id.desc())).all()
    return [r for r in rows if can_see_case(user, r, session)]


def registrable_cranes(session: Session, *, user: User) -> list[Crane]:
    """Accepted cranes on the user's own projects, waiting for its use registration application."""
    if user.kind != "enterprise" or user.enterprise_id is None:
        return []
    return list(session.scalars(select(Crane).join(Project, Project.id == Crane.project_id).where(
        Project.user_enterprise_id == user.enterprise_id, Crane.status == "accepted").order_by(Crane.id)))


def filing_form_data(crane: Crane) -> dict:
    """The crane_filing form as last submitted, for correcting a returned filing."""
    data = {name: getattr(crane, name) for name in (
        "crane_type", "model", "manufacturer", "manufacturing_licence_no",
        "manufacturing_licence_valid_until", "factory_serial", "manufacture_date",
        "design_life_years", "rated_moment_knm", "rated_load_kg", "max_height_m", "hoist_drive",
        "product_certificate_no", "supervision_certificate_no", "purchase_date")}
    for key, value in list(data.items()):
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
        elif value is not None and key in ("rated_moment_knm", "max_height_m"):
            data[key] = int(value) if value == int(value) else float(value)
    documents: dict[str, list[int]] = {}
    for doc in crane.documents:
        documents.setdefault(doc.doc_type, []).append(doc.attachment_id)
    data["documents"] = documents
    return data
