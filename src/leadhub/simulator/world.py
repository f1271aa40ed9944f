"""Meta's side of the world, in memory: one app, its Pages, their lead forms, ads and leads."""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from leadhub.simulator import questions
from leadhub.simulator.questions import Oddity

PAGE_NAMES = (
    "Istanbul Smile Dental",
    "Dubai Care Aesthetics",
    "Antalya Hair Clinic",
    "London Smile Partners",
)
PAGE_LOCALES = (("tr_TR", "en_GB"), ("ar_AR", "en_GB"), ("tr_TR", "ar_AR"), ("en_GB", "tr_TR"))
FORM_TITLES = {
    "tr_TR": "Ücretsiz ön görüşme",
    "ar_AR": "استشارة مجانية",
    "en_GB": "Free consultation",
}
LEAD_FIELDS = (
    "id",
    "created_time",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "form_id",
    "is_organic",
    "platform",
    "field_data",
    "custom_disclaimer_responses",
)
_TOKEN_CHARS = string.ascii_letters + string.digits


def _newest_first(leads: Iterable[Lead]) -> list[Lead]:
    return sorted(leads, key=lambda lead: (lead.created_time, int(lead.id)), reverse=True)


def graph_time(seconds: int) -> str:
    """A Unix time the way the Graph API writes it: 2026-01-01T00:00:00+0000."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Page:
    """A Facebook Page; `subscribed_fields` is empty until the app is installed on it."""

    id: str
    name: str
    access_token: str
    subscribed_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LeadForm:
    """An Instant Form on a Page."""

    id: str
    page_id: str
    name: str
    status: str
    locale: str
    created_time: int
    questions: list[dict]
    privacy_policy_url: str
    disclaimer_keys: tuple[str, ...]


@dataclass(frozen=True)
class Ad:
    """One ad of an ad set of a campaign, leading to one form."""

    id: str
    name: str
    adset_id: str
    adset_name: str
    campaign_id: str
    campaign_name: str
    form_id: str


@dataclass(frozen=True)
class Lead:
    """A submitted form; ad fields are None for organic and test leads."""

    id: str
    created_time: int
    page_id: str
    form_id: str
    platform: str
    field_data: tuple[tuple[str, str], ...]
    custom_disclaimer_responses: tuple[tuple[str, bool], ...]
    ad: Ad | None = None

    @property
    def is_organic(self) -> bool:
        return self.ad is None

    def answer(self, name: str) -> str | None:
        """The value given to question `name`, if it was answered."""
        return next((value for key, value in self.field_data if key == name), None)

    def graph(self, fields: Sequence[str] | None = None) -> dict:
        """The lead as `GET /{lead-id}?fields=…` returns it; absent ad fields are left out."""
        wanted = set(fields or LEAD_FIELDS)
        ad = self.ad
        full = {
            "id": self.id,
            "created_time": graph_time(self.created_time),
            "ad_id": ad and ad.id,
            "ad_name": ad and ad.name,
            "adset_id": ad and ad.adset_id,
            "adset_name": ad and ad.adset_name,
            "campaign_id": ad and ad.campaign_id,
            "campaign_name": ad and ad.campaign_name,
            "form_id": self.form_id,
            "is_organic": self.is_organic,
            "platform": self.platform,
            "field_data": [{"name": k, "values": [v]} for k, v in self.field_data],
            "custom_disclaimer_responses": [
                {"checkbox_key": k, "is_checked": "1" if checked else ""}
                for k, checked in self.custom_disclaimer_responses
            ],
        }
        return {k: v for k, v in full.items() if (k in wanted or k == "id") and v is not None}


@dataclass
class Token:
    """An access token Meta issued; `expires_at` 0 means it never expires."""

    value: str
    kind: str
    page_id: str | None
    issued_at: int
    expires_at: int = 0
    expired: bool = False


class World:
    """Everything the simulated Meta knows, safe to share between threads."""

    def __init__(
        self,
        *,
        app_id: str = "1122334455667788",
        app_secret: str | None = "simulator_app_secret",  # noqa: S107 - a simulator's fake
        app_name: str = "LeadHub Simulator",
        seed: int | None = 0,
        clock: Callable[[], float] = time.time,
        organic_rate: float = 0.15,
        oddity_rate: float = 0.0,
    ) -> None:
        self.app_id, self.app_secret, self.app_name = app_id, app_secret, app_name
        self.clock = clock
        self.organic_rate, self.oddity_rate = organic_rate, oddity_rate
        self._rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not secrets
        self._lock = threading.RLock()
        self._used_ids: set[str] = set()
        self._next_lead_id = 1290384756000000 + self._rng.randrange(10**8)
        self.user_id = self._new_id(17, "10")
        self.ad_account_id = f"act_{self._new_id(15, '9')}"
        self._pages: dict[str, Page] = {}
        self._forms: dict[str, LeadForm] = {}
        self._ads: dict[str, Ad] = {}
        self._leads: dict[str, Lead] = {}
        # Each form's leads, and the same newest first, sorted again only after new ones come:
        # a form of 100,000 leads (the backfill benchmark) pages without sorting every call.
        self._form_leads: dict[str, list[Lead]] = {}
        self._form_newest: dict[str, list[Lead]] = {}
        self._tokens: dict[str, Token] = {}

    @classmethod
    def seed_default(
        cls, pages: int = 2, forms_per_page: int = 2, *, leads_per_form: int = 0, **options
    ) -> World:
        """A ready world: clinic Pages with forms in Turkish, Arabic and English, and their ads."""
        world = cls(**options)
        for index in range(pages):
            name = PAGE_NAMES[index] if index < len(PAGE_NAMES) else f"Clinic Page {index + 1}"
            page = world.add_page(name)
            locales = PAGE_LOCALES[index % len(PAGE_LOCALES)]
            for number in range(forms_per_page):
                locale = locales[number % 2] if number < 2 else questions.LOCALES[number % 3]
                world.add_form(page.id, locale=locale, age_style=("dob", "age")[number % 2])
        if leads_per_form:
            now = int(world.clock())
            for form in world.forms():
                for _ in range(leads_per_form):
                    world.add_leads(1, form.id, now - world._rng.randrange(7 * 86400))
        return world

    @property
    def app_token(self) -> str:
        """The app access token, `{app-id}|{app-secret}`."""
        return f"{self.app_id}|{self.app_secret}"

    def _new_id(self, digits: int, prefix: str = "1") -> str:
        with self._lock:
            while True:
                rest = "".join(str(self._rng.randint(0, 9)) for _ in range(digits - len(prefix)))
                if (candidate := prefix + rest) not in self._used_ids:
                    self._used_ids.add(candidate)
                    return candidate

    def _issue_token(self, page_id: str) -> Token:
        with self._lock:
            value = "EAA" + "".join(self._rng.choice(_TOKEN_CHARS) for _ in range(160))
            token = Token(value, "PAGE", page_id, issued_at=int(self.clock()))
            self._tokens[value] = token
            return token

    def add_page(self, name: str) -> Page:
        """A new Page with a long-lived Page token."""
        with self._lock:
            page_id = self._new_id(15)
            page = Page(page_id, name, self._issue_token(page_id).value)
            self._pages[page_id] = page
            return page

    def add_form(
        self,
        page_id: str,
        *,
        locale: str = "en_GB",
        name: str | None = None,
        status: str = "ACTIVE",
        age_style: str = "dob",
        ads: int = 2,
    ) -> LeadForm:
        """A form on a Page, with a campaign, an ad set and `ads` ads that lead to it."""
        with self._lock:
            page = self._pages[page_id]
            specs = questions.question_specs(locale, age_style=age_style)
            form_id = self._new_id(15, "8")
            title = name or f"{FORM_TITLES[locale]} - {locale} #{len(self._forms) + 1}"
            form = LeadForm(
                id=form_id,
                page_id=page_id,
                name=title,
                status=status,
                locale=locale,
                created_time=int(self.clock()) - 30 * 86400,
                questions=[{**spec, "id": self._new_id(15, "5")} for spec in specs],
                privacy_policy_url=f"https://clinic.example.com/{page_id}/privacy",
                disclaimer_keys=questions.disclaimer_keys(locale),
            )
            self._forms[form_id] = form
            campaign_id, adset_id = self._new_id(18, "1202"), self._new_id(18, "1202")
            campaign_name = f"{page.name} - leads {locale}"
            adset_name = f"{locale[-2:]} 25-55 lookalike"
            for letter in "ABCDEFGH"[:ads]:
                ad = Ad(
                    id=self._new_id(18, "1202"),
                    name=f"{title} - {('Video', 'Carousel')[len(self._ads) % 2]} {letter}",
                    adset_id=adset_id,
                    adset_name=adset_name,
                    campaign_id=campaign_id,
                    campaign_name=campaign_name,
                    form_id=form_id,
                )
                self._ads[ad.id] = ad
            return form

    def add_leads(
        self,
        n: int,
        form_id: str | None = None,
        created_time: int | float | datetime | None = None,
        *,
        oddities: Iterable[Oddity | str] = (),
        organic: bool | None = None,
        platform: str | None = None,
    ) -> list[Lead]:
        """`n` new leads on a form (any active form if None), created now unless told when."""
        if isinstance(created_time, datetime):
            created_time = created_time.timestamp()
        requested = frozenset(Oddity(o) for o in oddities)
        made = []
        with self._lock:
            active = [f for f in self._forms.values() if f.status == "ACTIVE"]
            if not form_id and not active:
                raise ValueError("the world has no active lead form")
            for _ in range(n):
                form = self._forms[form_id] if form_id else self._rng.choice(active)
                made.append(self._make_lead(form, created_time, requested, organic, platform))
        return made

    def _make_lead(
        self,
        form: LeadForm,
        created_time: float | None,
        oddities: frozenset[Oddity],
        organic: bool | None,
        platform: str | None,
    ) -> Lead:
        rng = self._rng
        if not oddities and rng.random() < self.oddity_rate:
            oddities = frozenset({rng.choice(list(Oddity))})
        if organic is None:
            organic = rng.random() < self.organic_rate
        ads = [ad for ad in self._ads.values() if ad.form_id == form.id]
        ad = None if organic or not ads else rng.choice(ads)
        when = int(self.clock() if created_time is None else created_time)
        today = datetime.fromtimestamp(when, UTC).date()
        self._next_lead_id += rng.randint(1, 97)
        lead = Lead(
            id=str(self._next_lead_id),
            created_time=when,
            page_id=form.page_id,
            form_id=form.id,
            platform=platform or ("fb" if ad is None or rng.random() < 0.6 else "ig"),
            field_data=tuple(questions.answers(rng, form.locale, form.questions, oddities, today)),
            custom_disclaimer_responses=tuple(questions.disclaimer_answers(rng, form.locale)),
            ad=ad,
        )
        self._leads[lead.id] = lead
        self._form_leads.setdefault(form.id, []).append(lead)
        self._form_newest.pop(form.id, None)
        return lead

    def pages(self) -> list[Page]:
        with self._lock:
            return list(self._pages.values())

    def page(self, page_id: str) -> Page | None:
        with self._lock:
            return self._pages.get(page_id)

    def forms(self, page_id: str | None = None) -> list[LeadForm]:
        with self._lock:
            return [f for f in self._forms.values() if page_id in (None, f.page_id)]

    def form(self, form_id: str) -> LeadForm | None:
        with self._lock:
            return self._forms.get(form_id)

    def ad(self, ad_id: str) -> Ad | None:
        with self._lock:
            return self._ads.get(ad_id)

    def ads(self, form_id: str | None = None) -> list[Ad]:
        with self._lock:
            return [a for a in self._ads.values() if form_id in (None, a.form_id)]

    def lead(self, lead_id: str) -> Lead | None:
        with self._lock:
            return self._leads.get(lead_id)

    def leads(self, *, form_id: str | None = None, ad_id: str | None = None) -> list[Lead]:
        """Leads, newest first, like the Graph API lists them."""
        with self._lock:
            if form_id is not None and ad_id is None:
                if form_id not in self._form_newest:
                    self._form_newest[form_id] = _newest_first(self._form_leads.get(form_id, []))
                return list(self._form_newest[form_id])
            found = [
                lead
                for lead in self._leads.values()
                if form_id in (None, lead.form_id) and ad_id in (None, lead.ad and lead.ad.id)
            ]
        return _newest_first(found)

    def leads_count(self, form_id: str) -> int:
        with self._lock:
            return len(self._form_leads.get(form_id, ()))

    def token(self, value: str) -> Token | None:
        """What Meta knows about an access token, if it ever issued it."""
        with self._lock:
            return self._tokens.get(value)

    def expire_token(self, page_id: str) -> str:
        """Expire the Page's current token (as a password change would); returns it."""
        with self._lock:
            token = self._tokens[self._pages[page_id].access_token]
            token.expired, token.expires_at = True, int(self.clock()) - 1
            return token.value

    def renew_token(self, page_id: str) -> str:
        """Issue the Page a fresh never-expiring token, as re-connecting would."""
        with self._lock:
            page = self._pages[page_id]
            page.access_token = self._issue_token(page_id).value
            return page.access_token

    def subscribe(self, page_id: str, fields: Iterable[str]) -> None:
        """Install the app on the Page for `fields` (POST /{page-id}/subscribed_apps)."""
        with self._lock:
            page = self._pages[page_id]
            page.subscribed_fields = sorted(set(page.subscribed_fields) | set(fields))

    def unsubscribe(self, page_id: str) -> None:
        with self._lock:
            self._pages[page_id].subscribed_fields = []
