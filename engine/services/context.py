"""What a transition carries into service-task operators."""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from engine.db import ProcessInstance, User, utcnow

from .settings import CHINA_TZ


@dataclass
class TransitionContext:
    session: Session
    instance: ProcessInstance
    actor: User | None
    now: datetime = field(default_factory=utcnow)

    @property
    def today(self) -> date:
        """The action date: today in China."""
        return self.now.astimezone(CHINA_TZ).date()
