"""The completeness gate of the safety technical archive (Order 166 Art 7: no renting or use
without a complete archive; domain.md §5): what must be in the archive before the crane is
notified for installation or registered for use."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Crane, OperationRecord, ProcessInstance
from engine.errors import InvalidInput
from forms import current_locale, t
from forms.crane import REQUIRED_DOCUMENTS
from forms.messages import document_name

from .operations import open_faults
from .settings import CHINA_TZ, get_settings

# Before an installation notice: the filing originals, no open fault, and maintenance since the
# crane last came down (转场保养). Before jacking or use registration: no open fault.
STAGES = {"installation": ("filing_documents", "open_faults", "refit_maintenance"),
          "jacking": ("open_faults",),
          "registration": ("filing_documents", "open_faults")}


def _last_dismantled_on(session: Session, crane: Crane):
    # The dismantling case ends with the acknowledgement that takes the crane off the site.
    at = session.scalar(select(func.coalesce(ProcessInstance.completed_at, ProcessInstance.started_at)).where(
        ProcessInstance.process_key == "dismantling_notice", ProcessInstance.subject_type == "crane",
        ProcessInstance.subject_id == crane.id, ProcessInstance.outcome == "approved")
        .order_by(ProcessInstance.id.desc()).limit(1))
    return at.astimezone(CHINA_TZ).date() if at else None


def archive_gaps(session: Session, crane: Crane, stage: str) -> list[str]:
    """Each gap as a sentence in the request's language; empty when the archive is complete."""
    gaps = []
    checks = STAGES[stage]
    if "filing_documents" in checks:
        held = {d.doc_type for d in crane.documents}
        missing = [name for name in REQUIRED_DOCUMENTS if name not in held]
        if missing:
            gaps.append(t("gap_filing_documents", names="、".join(document_name(n) for n in missing)))
    if "open_faults" in checks:
        faults = open_faults(session, crane.id)
        if faults:
            gaps.append(t("gap_open_faults", n=len(faults)))
    if "refit_maintenance" in checks:
        dismantled_on = _last_dismantled_on(session, crane)
        if dismantled_on and session.scalar(select(OperationRecord.id).where(
                OperationRecord.crane_id == crane.id, OperationRecord.kind.in_(("maintenance", "repair")),
                OperationRecord.performed_on >= dismantled_on).limit(1)) is None:
            gaps.append(t("gap_refit_maintenance", date=dismantled_on.isoformat()))
    return gaps


def check_archive_complete(session: Session, crane: Crane, stage: str, field: str = "record_number") -> None:
    if not get_settings().archive_gate:
        return
    gaps = archive_gaps(session, crane, stage)
    if gaps:
        raise InvalidInput({field: [t("archive_incomplete", gaps=("；" if current_locale.get().startswith("zh") else "; ").join(gaps))]})
