"""Small fast helpers of the generator: weighted picks, timestamps, names, phones, e-mails."""

from __future__ import annotations

import bisect
import random
from datetime import date, timedelta
from itertools import accumulate

from benchmarks import pools
from benchmarks.world import DAY
from leadhub.leads.search import MIN_WORD, fold


def score_level(score: int) -> str:
    """hot 80+, warm 60+, medium 40+, cool 20+, cold below (the scoring rules will own this)."""
    for floor, level in ((80, "hot"), (60, "warm"), (40, "medium"), (20, "cool")):
        if score >= floor:
            return level
    return "cold"


class Weighted:
    """Pick from weighted options with one random number and a bisect."""

    def __init__(self, pairs: tuple | list | dict) -> None:
        items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
        self.values = [v for v, _ in items]
        self.cum = list(accumulate(w for _, w in items))
        self.total = self.cum[-1]

    def pick(self, r: float) -> object:
        return self.values[bisect.bisect_right(self.cum, r * self.total)]


class Timestamps:
    """Epoch seconds to the text UTCDateTime writes on SQLite, from two lookup tables."""

    def __init__(self) -> None:
        self.days: dict[int, str] = {}
        self.clock = [
            f" {h:02d}:{m:02d}:{s:02d}.000000"
            for h in range(24)
            for m in range(60)
            for s in range(60)
        ]

    def __call__(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, rest = divmod(seconds, DAY)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return text + self.clock[rest]


class Names:
    """Names by culture, each with the Latin spelling its owner uses in an e-mail address."""

    def __init__(self) -> None:
        same = lambda names: [(n, n) for n in names]  # noqa: E731
        self.pools = {
            "turkish": (same(pools.TURKISH_FIRST), same(pools.TURKISH_LAST)),
            "arabic": (list(pools.ARABIC_FIRST), list(pools.ARABIC_LAST)),
            "arabic_latin": (
                [(b, b) for _, b in pools.ARABIC_FIRST],
                [(b, b) for _, b in pools.ARABIC_LAST],
            ),
            "english": (same(pools.ENGLISH_FIRST), same(pools.ENGLISH_LAST)),
            "german": (same(pools.GERMAN_FIRST), same(pools.GERMAN_LAST)),
            "dutch": (same(pools.DUTCH_FIRST), same(pools.DUTCH_LAST)),
        }
        self.ascii: dict[str, str] = {}

    def latin(self, word: str) -> str:
        out = self.ascii.get(word)
        if out is None:
            out = self.ascii[word] = "".join(c for c in fold(word) if c.isascii() and c.isalnum())
        return out

    def make(self, culture: str, rnd: random.Random) -> tuple[str, str, str]:
        """(full name as typed, Latin first name, Latin last name)."""
        r = rnd.random
        first, last = self.pools[culture]
        f = first[int(r() * len(first))]
        s = last[int(r() * len(last))]
        if culture in ("arabic", "arabic_latin") and r() < 0.25:
            m = first[int(r() * 30)]  # the father's name: the pools list men first
            full = f"{f[0]} {m[0]} {s[0]}"
        else:
            full = f"{f[0]} {s[0]}"
        case = r()
        if case < 0.07:
            full = full.lower()
        elif case < 0.09:
            full = full.upper()
        return full, self.latin(f[1]), self.latin(s[1])


class Phones:
    """Unique valid mobile numbers per country: a bijection of a counter onto each plan."""

    def __init__(self) -> None:
        self.counter = dict.fromkeys(pools.PHONE_PLANS, 0)

    def next(self, country: str) -> tuple[str, str, str]:
        """(E.164, country calling code, national number)."""
        code, prefixes, digits = pools.PHONE_PLANS[country]
        n = self.counter[country]
        self.counter[country] = n + 1
        prefix = prefixes[n % len(prefixes)]
        rest = (n // len(prefixes) * 7_919_333 + 1_234_567) % 10**digits
        national = f"{prefix}{rest:0{digits}d}"
        return f"+{code}{national}", code, national


class Emails:
    """Unique by construction: the trailing digits are the lead id, and nothing else is a digit."""

    def __init__(self) -> None:
        self.domains = {c: Weighted(w) for c, w in pools.EMAIL_DOMAINS.items()}

    def make(self, lead_id: int, country: str, first: str, last: str, r: float, r2: float) -> str:
        domain = self.domains[country].pick(r2)
        if r < 0.35:
            local = f"{first}.{last}{lead_id}"
        elif r < 0.6:
            local = f"{first}{last}{lead_id}"
        elif r < 0.8:
            local = f"{first[:1]}{last}{lead_id}"
        else:
            local = f"{first}_{lead_id}"
        return f"{local}@{domain}"

    @staticmethod
    def terms(email: str) -> set[str]:
        """terms_for(email=...) of an address made here: ASCII, lower case, split only on dots."""
        local = email.split("@", 1)[0]
        terms = {word for word in local.split(".") if len(word) >= MIN_WORD}
        terms.add(email)
        return terms
