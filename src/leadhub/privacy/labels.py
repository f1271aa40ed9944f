"""Words shown for the privacy values (purposes, sources, kinds of access), translated lazily."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from leadhub.privacy.models import AccessKind, ConsentSource, ErasureStatus, Purpose

PURPOSES = {
    Purpose.PHONE: _l("phone"),
    Purpose.WHATSAPP: _l("WhatsApp"),
    Purpose.EMAIL: _l("email"),
    Purpose.MARKETING: _l("marketing"),
}
SOURCES = {
    ConsentSource.LEAD_FORM: _l("the lead form"),
    ConsentSource.PHONE_CALL: _l("a phone call"),
    ConsentSource.EMAIL: _l("an email"),
    ConsentSource.WHATSAPP: _l("a WhatsApp message"),
    ConsentSource.IN_PERSON: _l("in person"),
    ConsentSource.WRITTEN: _l("a signed form"),
}
ACCESS = {
    AccessKind.VIEW: _l("opened the lead page"),
    AccessKind.API_READ: _l("read it through the API"),
    AccessKind.EXPORT: _l("exported it"),
    AccessKind.PERSON_EXPORT: _l("downloaded the person's data"),
}
ERASURE = {
    ErasureStatus.PENDING: _l("waiting for approval"),
    ErasureStatus.DONE: _l("erased"),
    ErasureStatus.REJECTED: _l("rejected"),
}
