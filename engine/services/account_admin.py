"""Hierarchical account administration: who may create and manage which accounts.

A regional administrator (a regulator account with `account_admin`) manages the regulator accounts
of its jurisdiction: plain regulators of its own region and below, administrators only below its
level (it creates them exactly one level down). An enterprise administrator manages the ordinary
users of its own enterprise. Nobody manages its own account or an administrator at its level or above.
"""
import secrets

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.db import User, utcnow
from engine.db.base import like_escape
from engine.domain.regions import LEVEL_RANK as RANK, LEVELS, all_regions, get_region, is_within
from engine.errors import InvalidInput, NotFound, NotPermitted
from forms.messages import t

from . import audit
from .accounts import MAX_FAILED_LOGINS, hash_password, verify_password

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def manager_scope(actor: User) -> str | None:
    """"regional", "enterprise" or None (may not manage accounts)."""
    if not actor.is_active or not actor.account_admin:
        return None
    if actor.kind == "regulator" and actor.regulator_level in RANK and actor.region_code:
        return "regional"
    if actor.kind == "enterprise" and actor.enterprise_id is not None:
        return "enterprise"
    return None


def _require_admin(actor: User) -> str:
    scope = manager_scope(actor)
    if scope is None:
        raise NotPermitted(t("accounts_not_admin"))
    return scope


def in_scope(actor: User, target: User) -> bool:
    """Whether the actor sees the account at all (otherwise it is "not found")."""
    scope = manager_scope(actor)
    if scope == "enterprise":
        return target.kind == "enterprise" and target.enterprise_id == actor.enterprise_id
    if scope == "regional":
        return target.kind == "regulator" and bool(target.region_code) and is_within(target.region_code,
                                                                                    actor.region_code)
    return False


def refusal(actor: User, target: User) -> str | None:
    """Why the actor may not manage this (visible) account, as a message; None when it may."""
    if target.id == actor.id:
        return t("account_self")
    if manager_scope(actor) == "enterprise":
        return t("account_same_level") if target.account_admin else None
    return _level_refusal(actor, target.regulator_level, target.account_admin)


def _level_refusal(actor: User, level: str | None, admin: bool) -> str | None:
    mine, theirs = RANK[actor.regulator_level], RANK.get(level, -1)
    if theirs < mine:
        return t("account_higher_level")
    if admin and theirs == mine:
        return t("account_same_level")
    return None


def _manageable_filter(actor: User, scope: str):
    """SQL equivalent of in_scope and no refusal."""
    if scope == "enterprise":
        return and_(User.kind == "enterprise", User.enterprise_id == actor.enterprise_id,
                    User.account_admin.is_(False))
    codes = [r.code for r in all_regions() if is_within(r.code, actor.region_code)]
    below = LEVELS[RANK[actor.regulator_level] + 1:]
    return and_(User.kind == "regulator", User.region_code.in_(codes), User.id != actor.id,
                or_(User.account_admin.is_(False), User.regulator_level.in_(below)))


def list_accounts(session: Session, *, actor: User, level=None, region=None, status=None, q=None,
                  page: int = 1, per_page: int = 20) -> tuple[list[User], int]:
    """Accounts the actor may manage, newest first. `region` is a subtree within the jurisdiction."""
    scope = _require_admin(actor)
    conditions = [_manageable_filter(actor, scope)]
    if level:
        conditions.append(User.regulator_level == level)
    if region:
        conditions.append(User.region_code.in_([r.code for r in all_regions() if is_within(r.code, region)]))
    if status == "active":
        conditions += [User.is_active.is_(True), User.failed_logins < MAX_FAILED_LOGINS]
    elif status == "disabled":
        conditions.append(User.is_active.is_(False))
    elif status == "locked":
        conditions.append(User.failed_logins >= MAX_FAILED_LOGINS)
    if q:
        pattern = "%" + like_escape(q) + "%"
        conditions.append(or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    total = session.scalar(select(func.count(User.id)).where(*conditions))
    rows = session.scalars(select(User).where(*conditions).order_by(User.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def get_account(session: Session, *, actor: User, account_id: int) -> User:
    _require_admin(actor)
    target = session.get(User, account_id)
    if target is None or not in_scope(actor, target):
        raise NotFound("account")
    return target


def _manageable(session: Session, actor: User, account_id: int) -> User:
    target = get_account(session, actor=actor, account_id=account_id)
    reason = refusal(actor, target)
    if reason:
        raise NotPermitted(reason)
    return target


def generate_password() -> str:
    """A random 14-character password that meets the policy (letters and digits)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(14))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def create_account(session: Session, *, actor: User, data: dict) -> tuple[User, str]:
    """The new account and its initial password (to show once); it must be changed at first login."""
    scope = _require_admin(actor)
    level, region, admin = data.get("regulator_level"), data.get("region_code"), data.get("account_admin", False)
    if scope == "enterprise":
        if level or region:
            raise InvalidInput({"regulator_level" if level else "region_code": [t("account_no_level_for_enterprise")]})
        if admin:
            raise NotPermitted(t("account_same_level"))
        fields = dict(kind="enterprise", enterprise_id=actor.enterprise_id)
    else:
        if not level or not region:
            raise InvalidInput({"regulator_level" if not level else "region_code": [t("required")]})
        _check_regional_create(actor, level, region, admin)
        fields = dict(kind="regulator", regulator_level=level, region_code=region, account_admin=admin)
    if session.scalar(select(User.id).where(User.username == data["username"])) is not None:
        raise InvalidInput({"username": [t("username_taken")]})
    password = data.get("password") or generate_password()
    user = User(username=data["username"], display_name=data["display_name"], password_hash=hash_password(password),
                must_change_password=True, created_by_id=actor.id, **fields)
    session.add(user)
    session.flush()
    audit.record(session, action="account_created", actor=actor, account_id=user.id, username=user.username,
                 kind=user.kind, level=level, region=region, account_admin=user.account_admin)
    return user, password


def _check_regional_create(actor: User, level: str, region: str, admin: bool) -> None:
    reason = _level_refusal(actor, level, admin)
    if reason:
        raise NotPermitted(reason)
    if not is_within(region, actor.region_code):
        raise NotPermitted(t("account_outside_jurisdiction"))
    if admin and RANK[level] != RANK[actor.regulator_level] + 1:
        raise NotPermitted(t("account_admin_one_level"))
    if get_region(region) is None or get_region(region).level != level:
        raise InvalidInput({"region_code": [t("level_region_mismatch")]})


def set_active(session: Session, *, actor: User, account_id: int, active: bool) -> User:
    target = _manageable(session, actor, account_id)
    if target.is_active != active:
        target.is_active = active
        if not active:
            target.token_version += 1  # sessions and tokens of a disabled account end now
    audit.record(session, action="account_enabled" if active else "account_disabled", actor=actor,
                 account_id=target.id, username=target.username)
    return target


def unlock(session: Session, *, actor: User, account_id: int) -> User:
    target = _manageable(session, actor, account_id)
    previous, target.failed_logins = target.failed_logins, 0
    audit.record(session, action="account_unlocked", actor=actor, account_id=target.id, username=target.username,
                 failed_logins=previous)
    return target


def reset_password(session: Session, *, actor: User, account_id: int, password: str | None = None) -> tuple[User, str]:
    """A temporary password (given or generated) that must be changed at the next login."""
    target = _manageable(session, actor, account_id)
    generated = not password
    password = password or generate_password()
    target.password_hash = hash_password(password)
    target.must_change_password = True
    target.failed_logins = 0
    target.token_version += 1
    audit.record(session, action="password_reset", actor=actor, account_id=target.id, username=target.username,
                 generated=generated)
    return target, password


def change_own_password(session: Session, *, actor: User, current_password: str, new_password: str) -> User:
    """Every user may change its own password; other sessions and tokens end (the caller renews its own)."""
    user = session.get(User, actor.id)
    if user is None or not user.is_active:
        raise NotFound("account")
    if not verify_password(user, current_password):
        raise InvalidInput({"current_password": [t("password_wrong")]})
    if current_password == new_password:
        raise InvalidInput({"new_password": [t("password_unchanged")]})
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.token_version += 1
    audit.record(session, action="password_changed", actor=user, account_id=user.id, username=user.username)
    return user
