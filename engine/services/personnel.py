"""The personnel registry: an enterprise registers its people and their certificates; regulators
see the personnel of enterprises in their jurisdiction. ID numbers are shown masked."""
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Certificate, Enterprise, Person, User
from engine.domain.personnel import missing_categories
from engine.errors import InvalidInput, NotFound, NotPermitted
from forms import t

from .access import in_jurisdiction, region_codes_filter


def add_person(session: Session, *, actor: User, data: dict) -> Person:
    enterprise = actor.enterprise
    if actor.kind != "enterprise" or enterprise is None or enterprise.status != "approved":
        raise NotPermitted(t("enterprise_not_approved"))
    if session.scalar(select(Person.id).where(Person.enterprise_id == enterprise.id,
                                              Person.id_number == data["id_number"])) is not None:
        raise InvalidInput({"id_number": [t("person_exists")]})
    numbers = [c["number"] for c in data["certificates"]]
    taken = set(session.scalars(select(Certificate.number).where(Certificate.number.in_(numbers)))) if numbers else set()
    duplicates = {i: {"number": [t("certificate_exists")]} for i, n in enumerate(numbers)
                  if n in taken or numbers.index(n) != i}
    if duplicates:
        raise InvalidInput({"certificates": duplicates})
    person = Person(enterprise_id=enterprise.id, name=data["name"], id_number=data["id_number"],
                    certificates=[Certificate(**c) for c in data["certificates"]])
    session.add(person)
    session.flush()
    return person


def visible_filter(user: User):
    if user.kind == "admin":
        return None
    if user.kind == "enterprise":
        return Person.enterprise_id == user.enterprise_id
    if user.kind == "regulator":
        return Person.enterprise_id.in_(select(Enterprise.id).where(region_codes_filter(user, Enterprise.region_code)))
    return Person.id == -1


def list_personnel(session: Session, *, user: User, page: int = 1, per_page: int = 20) -> tuple[list[Person], int]:
    condition = visible_filter(user)
    count, rows = select(func.count()).select_from(Person), select(Person).order_by(Person.id.desc())
    if condition is not None:
        count, rows = count.where(condition), rows.where(condition)
    total = session.scalar(count)
    return list(session.scalars(rows.limit(per_page).offset((page - 1) * per_page))), total


def get_person(session: Session, *, user: User, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person not found")
    if user.kind == "enterprise" and person.enterprise_id != user.enterprise_id:
        raise NotFound("person not found")
    if user.kind == "regulator":
        enterprise = session.get(Enterprise, person.enterprise_id)
        if not in_jurisdiction(user, enterprise.region_code):
            raise NotFound("person not found")
    return person


def uncovered_categories(person: Person, needed: set[str], on: date) -> set[str]:
    """Certificate categories a step needs that this person does not hold validly on `on`."""
    held: dict[str, date] = {}
    for cert in person.certificates:
        held[cert.category] = max(held.get(cert.category, cert.valid_until), cert.valid_until)
    return missing_categories(held, needed, on)
