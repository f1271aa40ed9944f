"""Why a bulk operation left a lead alone: stable codes for the API, words for people."""

from __future__ import annotations

import enum

from leadhub.errors import N_


class Reason(enum.StrEnum):
    NOT_ALLOWED = "transition_not_allowed"
    UNCHANGED = "unchanged"
    OUT_OF_DATE = "out_of_date"
    GONE = "not_found"
    OTHER_DISTRIBUTOR = "other_distributor"
    NO_AGENT = "no_agent_for_distributor"
    CHANGED_SINCE = "changed_since"
    FAILED = "failed"


MESSAGES: dict[str, str] = {
    Reason.NOT_ALLOWED: N_("This status change is not allowed for the lead's current status."),
    Reason.UNCHANGED: N_("Nothing to change: the lead is like that already."),
    Reason.OUT_OF_DATE: N_("The lead changed after it was selected."),
    Reason.GONE: N_("The lead was deleted or left your scope in the meantime."),
    Reason.OTHER_DISTRIBUTOR: N_("That staff member works for another distributor."),
    Reason.NO_AGENT: N_("None of the chosen agents works for this lead's distributor."),
    Reason.CHANGED_SINCE: N_("The lead changed after the operation, so it was left as it is."),
    Reason.FAILED: N_("An unexpected error stopped the operation before this lead."),
}


def message(code: str) -> str:
    return MESSAGES.get(code, MESSAGES[Reason.FAILED])
