"""What a transition carries into service-task operators."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from engine.db import ProcessInstance, User, utcnow


@dataclass
class TransitionContext:
    session: Session
    instance: ProcessInstance
    actor: User | None
    now: datetime = field(default_factory=utcnow)
