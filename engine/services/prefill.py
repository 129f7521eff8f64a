"""Current data for a task's form: the record the case already holds, so corrections start filled in."""
from sqlalchemy.orm import Session

from sqlalchemy import select

from engine.db import Crane, FilingSubmission, Hazard, HumanTask, Inspection, ProcessInstance

from .cranes import filing_form_data
from .enterprise_filing import enterprise_form_data
from .report_submission import fill_form_data


OPEN_HAZARD_ROWS = {"rectification_reply": "items", "reinspection": "results"}


def task_form_data(session: Session, task: HumanTask) -> dict:
    """Current data to show in a task's form (pre-filled where the case already holds a record)."""
    instance = session.get(ProcessInstance, task.instance_id)
    submission = session.get(FilingSubmission, instance.id)
    if submission is not None and submission.form_key == task.form_key:
        return dict(submission.data)  # what the applicant last submitted in this case
    if task.form_key == "report_fill":  # the region's own figures, or the values last submitted
        return fill_form_data(session, instance)
    if task.form_key == "enterprise_filing":
        return enterprise_form_data(session, instance)
    if task.form_key == "crane_filing" and instance.subject_type == "crane" and instance.subject_id:
        crane = session.get(Crane, instance.subject_id)
        if crane is not None:
            return filing_form_data(crane)
    if task.form_key in OPEN_HAZARD_ROWS:  # one row per hazard still open, numbered as in the notice
        numbers = session.scalars(select(Hazard.seq).join(Inspection).where(
            Inspection.instance_id == instance.id, Hazard.status == "open").order_by(Hazard.seq))
        return {OPEN_HAZARD_ROWS[task.form_key]: [{"hazard_no": n} for n in numbers]}
    if instance.subject_type == "crane" and instance.subject_id and task.form_key in ("use_registration",):
        return {"crane_id": instance.subject_id}  # a case opened for a crane names it already
    return {}
