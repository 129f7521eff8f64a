"""Running cases: serialized workflow state, projected human tasks and the audit trail."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow
from .types import UTCDateTime

INSTANCE_STATUSES = ("running", "completed", "error", "cancelled")
TASK_STATUSES = ("open", "completed", "cancelled")


class ProcessInstance(Base):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    outcome: Mapped[str | None] = mapped_column(String(32))
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    applicant_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    # Only engine.bpmn.store reads or writes these two columns. The state is loaded only when asked
    # for (lock_instance does): lists of cases never carry whole workflow states.
    state: Mapped[dict | None] = mapped_column(JSONType, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Set by the process's own SLA timer when a review passes its legal time limit.
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    definition = relationship("ProcessDefinition", lazy="joined")
    # Not a column: the open tasks as the last projection in this transaction left them.
    projected_open_tasks = None
    applicant = relationship("Enterprise")

    __table_args__ = (
        Index("ix_process_instance_subject", "subject_type", "subject_id"),
        # The incidents list: the few cases with an error, newest first, without scanning the rest.
        Index("ix_process_instance_incident", "id", postgresql_where=error.is_not(None),
              sqlite_where=error.is_not(None)),
        # Regulator statistics: applications lodged per month and procedure.
        Index("ix_process_instance_statistics", "process_key", "started_at", postgresql_include=["region_code"]),
        # … and those of a city's or county's regions.
        Index("ix_process_instance_region_statistics", "region_code", "process_key", "started_at"),
        # Usage report: cases completed in a period, and the few flagged overdue.
        Index("ix_process_instance_completed", "completed_at", postgresql_where=text("status = 'completed'"),
              sqlite_where=text("status = 'completed'")),
        Index("ix_process_instance_overdue", "overdue_since", postgresql_where=overdue_since.is_not(None),
              sqlite_where=overdue_since.is_not(None)),
    )


class HumanTask(Base):
    """A ready user task as the inbox sees it; written only by the projection after a transition."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_guid"),
        # One index per inbox shape: province (all), city, county, enterprise — each sorted by due date.
        Index("ix_human_task_inbox_all", "status", "due_at"),
        Index("ix_human_task_inbox_city", "status", "city_code", "due_at"),
        Index("ix_human_task_inbox_county", "status", "region_code", "due_at"),
        Index("ix_human_task_inbox_enterprise", "status", "enterprise_id", "due_at"),
        # "Claimed by me" reads one user's open tasks by due date.
        Index("ix_human_task_claimed", "claimed_by_id", "status", "due_at"),
        # Regulator statistics: completed reviews of the province (by completion time) and of a city.
        Index("ix_human_task_reviews_done", "completed_at",
              postgresql_include=["city_code", "province_code", "region_code", "created_at", "due_at", "process_key"],
              postgresql_where=text("status = 'completed' AND role = 'regulator'"),
              sqlite_where=text("status = 'completed' AND role = 'regulator'")),
        Index("ix_human_task_reviews_done_city", "city_code", "completed_at",
              postgresql_include=["region_code", "created_at", "due_at"],
              postgresql_where=text("status = 'completed' AND role = 'regulator'"),
              sqlite_where=text("status = 'completed' AND role = 'regulator'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    form_key: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    # Regulator levels allowed to act, e.g. "province,city,county"; empty for enterprise lanes.
    levels: Mapped[str] = mapped_column(String(32), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    region_code: Mapped[str | None] = mapped_column(String(6))
    city_code: Mapped[str | None] = mapped_column(String(6))
    province_code: Mapped[str | None] = mapped_column(String(6))
    process_key: Mapped[str] = mapped_column(String(64))
    case_title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The regulator working on the task; while set, only this user may complete it.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    instance = relationship("ProcessInstance", lazy="raise")
    completed_by = relationship("User", foreign_keys=[completed_by_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(32))  # start | complete | decision | deploy | ...
    task_name: Mapped[str | None] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Tamper evidence (engine/services/audit_chain.py): the row's place in its chain and its HMAC,
    # computed over its content and the previous row's hash.
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User")

    __table_args__ = (Index("ix_audit_event_chain_seq", "chain", "seq", unique=True),
                      # Regulator statistics: events of one kind per month (re-inspections).
                      Index("ix_audit_event_action_at", "action", "at"),
                      # Usage report: whether each regulator acted in a period (one probe per account).
                      Index("ix_audit_event_actor_at", "actor_id", "at"))


class FilingSubmission(Base):
    """What the applicant last submitted in a case, kept until the regulator decides.

    An approved record (e.g. an enterprise's filing) changes only on approval; until then the
    submitted version lives here, one row per case.
    """

    __tablename__ = "filing_submission"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    form_key: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSONType)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CaseAttachment(Base):
    """Files submitted in a case, so those who may see the case may open them."""

    __tablename__ = "case_attachment"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), primary_key=True, index=True)
