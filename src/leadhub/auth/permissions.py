"""Role rules for routes and object rules for leads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, request, url_for
from flask_login import current_user

from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.errors import N_, Forbidden, NotFound, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = tuple(Role)
STAFF_ROLES = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER, Role.AGENT)
LEAD_WRITERS = STAFF_ROLES


def _is_api() -> bool:
    return request.path.startswith("/api/")


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let only these roles in: 401 (API) or a redirect to /login when signed out, 403 otherwise."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if _is_api():
                    raise Unauthorized()
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper.access_rule = tuple(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a route as open to anyone (sign-in page, health checks, webhooks)."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def acting_user() -> User:
    """The signed-in user or API key owner of this request."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    return current_user._get_current_object()  # type: ignore[no-any-return]


# What each role may do to a lead it can see. Seeing is decided by visible_leads.
LEAD_ACTIONS: dict[str, frozenset[Role]] = {
    "read": frozenset(Role),
    "update": frozenset(STAFF_ROLES),
    "interact": frozenset(STAFF_ROLES),
    "assign": frozenset({Role.SUPERADMIN, Role.ADMIN, Role.MANAGER}),
    "claim": frozenset({Role.AGENT}),
    "reopen": frozenset(CLINIC_ROLES),
    "delete": frozenset(CLINIC_ROLES),
    "restore": frozenset(CLINIC_ROLES),
    "create": frozenset({Role.SUPERADMIN, Role.ADMIN, Role.MANAGER, Role.AGENT}),
}


def can(user: User, action: str) -> bool:
    return user.role in LEAD_ACTIONS[action]


def ensure_can(user: User, action: str, obj: Any = None) -> None:
    """Raise Forbidden unless `user`'s role may do `action` (scope is checked by the caller)."""
    if not can(user, action):
        raise Forbidden(N_("Your role may not %(action)s leads."), action=action)


def ensure_distributor(user: User, distributor_id: int) -> None:
    """A manager or agent works only inside their own distributor; outside it looks absent."""
    if user.role not in CLINIC_ROLES and user.distributor_id != distributor_id:
        raise NotFound(N_("No such distributor."))
