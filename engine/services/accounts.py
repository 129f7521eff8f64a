"""Passwords (Argon2id), login with lock-out after repeated failures, and API bearer tokens."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine.db import Enterprise, User, utcnow

MAX_FAILED_LOGINS = 5
TOKEN_MAX_AGE = 8 * 3600

_hasher = PasswordHasher()


def configure_hasher(*, time_cost: int = 3, memory_cost: int = 65536) -> None:
    """Tests may use cheaper parameters; production keeps argon2-cffi's recommended defaults."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user on success; None for a wrong name/password or a locked/disabled account."""
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        _hasher.hash(password or "")  # same cost whether or not the name exists
        return None
    if not user.is_active or user.failed_logins >= MAX_FAILED_LOGINS:
        return None
    if not verify_password(user, password or ""):
        user.failed_logins += 1
        return None
    user.failed_logins = 0
    user.last_login_at = utcnow()
    return user


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="craneflow-api-token")


def issue_token(secret: str, user: User) -> str:
    return _serializer(secret).dumps({"uid": user.id, "v": user.token_version})


def user_for_token(session: Session, secret: str, token: str) -> User | None:
    try:
        payload = _serializer(secret).loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = load_user(session, payload.get("uid"))
    if user is None or not user.is_active or user.token_version != payload.get("v"):
        return None
    return user


def load_user(session: Session, user_id) -> User | None:
    """The user with enterprise and declared roles, in one statement (every request does this)."""
    if not isinstance(user_id, int):
        return None
    stmt = (select(User).where(User.id == user_id)
            .options(joinedload(User.enterprise).joinedload(Enterprise.role_rows)))
    return session.execute(stmt).unique().scalar_one_or_none()
