"""Accounts: create, authenticate, change passwords, manage API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from leadhub import events
from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, ApiKey, Role, User
from leadhub.auth.schemas import PasswordChange, Preferences, UserCreate, UserUpdate
from leadhub.db import utcnow
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Conflict, Forbidden, InvalidInput, NotFound

USER_FIELDS = ("email", "name", "role", "distributor_id", "language", "active")
# A change to one of these ends the user's live connections, which then sign in again.
ACCESS_FIELDS = {"role", "distributor_id", "active"}
KEY_PREFIX = "lh_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Checked when an email is unknown, so a wrong email costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def list_users(session: Session, *, actor: User) -> list[User]:
    stmt = select(User).order_by(User.name, User.id)
    if actor.role not in CLINIC_ROLES:
        stmt = stmt.where(User.distributor_id == actor.distributor_id)
    return list(session.scalars(stmt))


def staff_choices(session: Session, *, actor: User) -> list[tuple[int, str]]:
    """(id, name) of the people whose leads `actor` may filter the desk by."""
    if actor.role is Role.AGENT:
        return [(actor.id, actor.name)]
    stmt = select(User.id, User.name).order_by(User.name, User.id)
    if actor.role not in CLINIC_ROLES:
        stmt = stmt.where(User.distributor_id == actor.distributor_id)
    return [(user_id, name) for user_id, name in session.execute(stmt)]


def staff_for_distributor(session: Session, distributor_id: int) -> list[User]:
    """Active people who can be given leads of this distributor."""
    stmt = (
        select(User)
        .where(
            User.active.is_(True),
            User.role.in_([Role.MANAGER, Role.AGENT, Role.ADMIN, Role.SUPERADMIN]),
            (User.distributor_id == distributor_id) | User.distributor_id.is_(None),
        )
        .order_by(User.name)
    )
    return list(session.scalars(stmt))


def _check_role_and_distributor(
    session: Session, *, actor: User | None, role: Role, distributor_id: int | None
) -> None:
    if actor is not None:
        if actor.role not in CLINIC_ROLES:
            raise Forbidden(N_("Only admins manage users."))
        if role is Role.SUPERADMIN and actor.role is not Role.SUPERADMIN:
            raise Forbidden(N_("Only a superadmin can make a superadmin."))
    if role in (Role.MANAGER, Role.AGENT) and distributor_id is None:
        raise InvalidInput(N_("A %(role)s belongs to a distributor; choose one."), role=role.value)
    if role in CLINIC_ROLES and distributor_id is not None:
        raise InvalidInput(N_("Admins work for the clinic, not for one distributor."))
    if distributor_id is not None and session.get(Distributor, distributor_id) is None:
        raise InvalidInput(N_("No such distributor."))


def create(session: Session, *, data: UserCreate, actor: User | None) -> User:
    """Create an account; `actor` is None only for the command line."""
    email = normalize_email(data.email)
    _check_role_and_distributor(
        session, actor=actor, role=data.role, distributor_id=data.distributor_id
    )
    if find_by_email(session, email) is not None:
        raise Conflict(N_("A user with this email already exists."))
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        distributor_id=data.distributor_id,
        language=data.language,
        password_hash=generate_password_hash(data.password),
        password_changed_at=utcnow(),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user


def update(session: Session, *, user: User, data: UserUpdate, actor: User) -> User:
    fields = data.model_dump(exclude_unset=True)
    if user.role is Role.SUPERADMIN and actor.role is not Role.SUPERADMIN:
        raise Forbidden(N_("Only a superadmin can change a superadmin."))
    if user.id == actor.id and ("role" in fields or fields.get("active") is False):
        raise InvalidInput(N_("You cannot change your own role or deactivate yourself."))
    role = fields.get("role", user.role)
    distributor_id = fields.get("distributor_id", user.distributor_id)
    if role in CLINIC_ROLES and "distributor_id" not in fields:
        distributor_id = None
    _check_role_and_distributor(session, actor=actor, role=role, distributor_id=distributor_id)
    before = audit.snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    user.distributor_id = distributor_id
    changed = audit.record_changes(
        session,
        actor=actor,
        action="user.update",
        object_type="user",
        object_id=user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    if changed is not None and ACCESS_FIELDS & changed.after.keys():
        events.emit(session, events.UserAccessChanged(user.id))
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same cost either way)."""
    user = find_by_email(session, email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    audit.record(session, actor=user, action="user.login", object_type="user", object_id=user.id)
    return user


def change_password(session: Session, *, user: User, data: PasswordChange) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, data.current_password):
        raise InvalidInput(N_("The current password is not right."))
    user.password_hash = generate_password_hash(data.new_password)
    user.password_changed_at = utcnow()
    audit.record(
        session, actor=user, action="user.password_change", object_type="user", object_id=user.id
    )


def set_language(session: Session, *, user: User, language: str) -> None:
    user.language = language


def update_preferences(session: Session, *, user: User, data: Preferences) -> None:
    """The user's own language and time zone (times are shown in it)."""
    before = audit.snapshot(user, ("language", "timezone"))
    user.language, user.timezone = data.language, data.timezone
    audit.record_changes(
        session,
        actor=user,
        action="user.preferences",
        object_type="user",
        object_id=user.id,
        before=before,
        after=audit.snapshot(user, ("language", "timezone")),
    )


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, user: User, name: str, actor: User | None) -> str:
    """Make a key for `user` and return it; only its hash is kept, so it is shown once."""
    if actor is not None and actor.id != user.id and actor.role not in CLINIC_ROLES:
        raise Forbidden(N_("You can only make keys for yourself."))
    secret = secrets.token_urlsafe(32)
    prefix = KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secret}"
    api_key = ApiKey(
        user_id=user.id, name=name.strip() or "API key", prefix=prefix, key_hash=_hash_key(key)
    )
    session.add(api_key)
    session.flush()
    audit.record(
        session,
        actor=actor or user,
        action="api_key.create",
        object_type="api_key",
        object_id=api_key.id,
        after={"user_id": user.id, "name": api_key.name, "prefix": prefix},
    )
    return key


def list_api_keys(session: Session, *, user: User) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, *, key_id: int, actor: User) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or (api_key.user_id != actor.id and actor.role not in CLINIC_ROLES):
        raise NotFound(N_("No such API key."))
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="api_key.revoke",
            object_type="api_key",
            object_id=api_key.id,
        )
        events.emit(session, events.UserAccessChanged(api_key.user_id))
    return api_key


def user_for_api_key(session: Session, key: str) -> User | None:
    """The active owner of a valid, unrevoked key; notes when it was last used (caller commits)."""
    if not key.startswith(KEY_PREFIX):
        return None
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash_key(key)))
    if api_key is None or api_key.revoked_at is not None or not api_key.user.active:
        return None
    if not hmac.compare_digest(api_key.key_hash, _hash_key(key)):
        return None
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        api_key.last_used_at = now
    return api_key.user
