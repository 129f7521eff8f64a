"""Pre-aggregated figures the regulator statistics read instead of scanning every task."""
from datetime import date

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReviewLeadRollup(Base):
    """Completed regulator reviews per region, China-time month of completion and lead time (tenths of a
    calendar day): how many, how many by their due time, and their summed lead time in days.

    Written in the transaction that completes a review (engine/services/statistics/rollup.py), so it is
    never behind the tasks; a province-wide year is a few tens of thousands of rows instead of every review."""

    __tablename__ = "review_lead_rollup"
    __table_args__ = (
        Index("ix_review_lead_rollup_month", "month"),
        Index("ix_review_lead_rollup_city", "city_code", "month"),
    )

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    lead_tenths: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_code: Mapped[str | None] = mapped_column(String(6))
    province_code: Mapped[str | None] = mapped_column(String(6))
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    lead_days: Mapped[float] = mapped_column(Float, default=0.0)
