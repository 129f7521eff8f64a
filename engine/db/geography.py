"""Administrative divisions (GB/T 2260) used for regulator jurisdiction."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96))
    level: Mapped[str] = mapped_column(String(16))  # province | city | county
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    plate: Mapped[str | None] = mapped_column(String(1))

    def label(self, locale: str = "zh_CN") -> str:
        return self.name if locale.startswith("zh") else self.name_en
