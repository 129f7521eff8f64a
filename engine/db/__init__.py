"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""
from .base import Base, EncodedJSON, JSONType, json_dumps, utcnow
from .geography import Region
from .parties import Enterprise, EnterpriseDocument, EnterpriseRole, EnterpriseStaff, User
from .definitions import ProcessDefinition
from .cases import AuditEvent, CaseAttachment, FilingSubmission, HumanTask, ProcessInstance
from .attachments import Attachment
from .cranes import Crane, CraneDocument, RecordNumberSequence
from .personnel import Certificate, Person
from .projects import CaseParty, CaseRecord, Project
from .inspections import ConductRecord, Hazard, Inspection
from .operations import OPERATION_KINDS, OperationRecord
from .drafts import TaskDraft
from .jobs import DueJob, OutboxMessage, WorkerHeartbeat
from .exchange import ExchangeRecord
from .notifications import Notification
from .audit import AuditChain, AuditVerification
from .reports import ReportDefinition, ReportSubmission
from .certificates import IssuedCertificate
from .statistics import ReviewLeadRollup

__all__ = [
    "Base", "EncodedJSON", "JSONType", "json_dumps", "utcnow", "Region", "Enterprise", "EnterpriseDocument", "EnterpriseRole", "EnterpriseStaff",
    "CaseAttachment", "FilingSubmission", "User",
    "ProcessDefinition", "ProcessInstance", "HumanTask", "AuditEvent", "Attachment",
    "Crane", "CraneDocument", "RecordNumberSequence", "Certificate", "Person",
    "CaseParty", "CaseRecord", "Project", "ConductRecord", "Hazard", "Inspection",
    "OPERATION_KINDS", "OperationRecord",
    "TaskDraft", "DueJob", "OutboxMessage", "WorkerHeartbeat",
    "ExchangeRecord",
    "Notification",
    "AuditChain", "AuditVerification",
    "ReportDefinition", "ReportSubmission",
    "IssuedCertificate",
    "ReviewLeadRollup",
]
