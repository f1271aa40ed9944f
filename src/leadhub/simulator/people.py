"""Names, cities and phone numbers of the people who fill in lead forms, per market."""

from __future__ import annotations

import random
from dataclasses import dataclass

_TR_FIRST = [
    "Ayşe",
    "Fatma",
    "Zeynep",
    "Elif",
    "Merve",
    "Büşra",
    "Şeyma",
    "Gülşen",
    "Özlem",
    "Çiğdem",
    "İrem",
    "Ebru",
    "Mehmet",
    "Mustafa",
    "Ahmet",
    "Ali",
    "Hüseyin",
    "Hasan",
    "İbrahim",
    "Emre",
    "Burak",
    "Oğuz",
    "Çağrı",
    "Uğur",
]
_TR_LAST = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Polat",
    "Güneş",
    "Aktaş",
]
_AR_FIRST = (
    ("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("عبدالله", "Abdullah"), ("خالد", "Khalid"),
    ("سعود", "Saud"), ("فيصل", "Faisal"), ("عمر", "Omar"), ("يوسف", "Youssef"),
    ("فاطمة", "Fatima"), ("نورة", "Noura"), ("مريم", "Maryam"), ("سارة", "Sara"),
    ("ريم", "Reem"), ("هند", "Hind"), ("لطيفة", "Latifa"), ("عائشة", "Aisha"),
)  # fmt: skip
_AR_LAST = (
    ("العتيبي", "Alotaibi"), ("القحطاني", "Alqahtani"), ("الشمري", "Alshammari"),
    ("الدوسري", "Aldosari"), ("المنصوري", "Almansoori"), ("الهاشمي", "Alhashimi"),
    ("الزعابي", "Alzaabi"), ("الكعبي", "Alkaabi"), ("المهيري", "Almheiri"), ("الحربي", "Alharbi"),
)  # fmt: skip
_EN_FIRST = [
    "Oliver",
    "Harry",
    "George",
    "Jack",
    "Charlie",
    "Thomas",
    "James",
    "Olivia",
    "Amelia",
    "Isla",
    "Emily",
    "Sophie",
    "Grace",
    "Chloe",
    "Jessica",
    "Priya",
]
_EN_LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Evans",
    "O'Connor",
    "Khan",
]
_DE_FIRST = [
    "Lukas",
    "Jonas",
    "Leon",
    "Felix",
    "Maximilian",
    "Anna",
    "Lena",
    "Lea",
    "Marie",
    "Sophie",
]
_DE_LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schäfer",
    "Koch",
]

CITIES = {
    "TR": [
        "İstanbul",
        "Ankara",
        "İzmir",
        "Bursa",
        "Antalya",
        "Adana",
        "Konya",
        "Gaziantep",
        "Kayseri",
        "Trabzon",
    ],
    "DE": ["Berlin", "Köln", "München", "Hamburg", "Frankfurt am Main", "Düsseldorf", "Stuttgart"],
    "AE": ["دبي", "أبوظبي", "الشارقة", "العين", "عجمان"],
    "SA": ["الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة"],
    "GB": [
        "London",
        "Manchester",
        "Birmingham",
        "Leeds",
        "Glasgow",
        "Liverpool",
        "Bristol",
        "Edinburgh",
    ],
}

# Which countries' people fill in a form of each locale, with weights.
MARKETS = {
    "tr_TR": (("TR", 80), ("DE", 20)),
    "ar_AR": (("AE", 50), ("SA", 50)),
    "en_GB": (("GB", 75), ("DE", 25)),
}

# Mobile prefixes after the trunk 0, and how many subscriber digits follow each.
_MOBILE = {
    "TR": (("530 531 532 533 535 536 537 538 539 541 542 543 544 545 505 506 507 555", 7),),
    "AE": (("50 52 54 55 56 58", 7),),
    "SA": (("50 53 54 55 56 58 59", 7),),
    "GB": (("7958 7912 7723 7734 7450 7480 7540 7830 7960 7412", 6),),
    "DE": (("151 152 157 176 177 178 179", 8), ("160 170 171 175", 7)),
}
_COUNTRY_CODE = {"TR": "90", "AE": "971", "SA": "966", "GB": "44", "DE": "49"}
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_LATIN = str.maketrans("çğıöşüÇĞİÖŞÜäßÄ'", "cgiosuCGIOSUasA-")

UNPARSEABLE_PHONES = (
    "bana whatsapp'tan yazın",
    "اتصل على الواتساب",
    "no phone, email me",
    "+",
    "-",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")


@dataclass(frozen=True)
class Person:
    """Someone filling in a form: the name as typed, a Latin spelling for the email, a place."""

    full_name: str
    latin_name: str
    country: str
    city: str


def person(rng: random.Random, locale: str) -> Person:
    """A person from one of the markets that answer forms of `locale`."""
    countries, weights = zip(*MARKETS[locale], strict=True)
    country = rng.choices(countries, weights)[0]
    city = rng.choice(CITIES[country])
    if locale == "ar_AR":
        (first_ar, first_lat), (last_ar, last_lat) = rng.choice(_AR_FIRST), rng.choice(_AR_LAST)
        latin = f"{first_lat} {last_lat}"
        typed_latin = rng.random() < 0.15
        return Person(latin if typed_latin else f"{first_ar} {last_ar}", latin, country, city)
    if locale == "tr_TR":
        name = f"{rng.choice(_TR_FIRST)} {rng.choice(_TR_LAST)}"
    elif country == "DE":
        name = f"{rng.choice(_DE_FIRST)} {rng.choice(_DE_LAST)}"
    else:
        name = f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"
    typed = _as_typed(rng, name, locale)
    return Person(typed, name.translate(_LATIN), country, city)


def _as_typed(rng: random.Random, name: str, locale: str) -> str:
    """People type in lower case, in capitals, with double spaces."""
    roll = rng.random()
    if roll < 0.08:
        return (
            name.lower() if locale != "tr_TR" else name.replace("I", "ı").replace("İ", "i").lower()
        )
    if roll < 0.12:
        return name.upper() if locale != "tr_TR" else name.replace("i", "İ").upper()
    if roll < 0.15:
        return name.replace(" ", "  ") + " "
    return name


def email(rng: random.Random, latin_name: str) -> str:
    """An address people plausibly own, on reserved example domains."""
    first, _, last = latin_name.lower().replace("-", "").partition(" ")
    local = rng.choice((f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", first))
    if rng.random() < 0.4:
        local += str(rng.randint(1, 99) if rng.random() < 0.5 else rng.randint(1970, 2005))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def phone(rng: random.Random, country: str) -> str:
    """A valid mobile number of `country`, written the way people type it."""
    prefixes, digits = rng.choice(_MOBILE[country])
    prefix = rng.choice(prefixes.split())
    rest = "".join(str(rng.randint(0, 9)) for _ in range(digits))
    national, cc = prefix + rest, _COUNTRY_CODE[country]
    style = rng.randrange(4)
    if country == "TR":
        body = f"{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}"
        forms = (f"+90 {body}", f"0{body}", f"0{national}", f"+90{national}")
    elif country in ("AE", "SA"):
        body = f"{national[:2]} {national[2:5]} {national[5:]}"
        forms = (f"+{cc} {body}", f"0{body}", f"00{cc}{national}", f"0{national}")
    elif country == "GB":
        body = f"{national[:4]} {national[4:]}"
        forms = (f"0{body}", f"+44 {body}", f"+44{national}", f"0{national}")
    else:
        split = len(prefix)
        forms = (
            f"0{national[:split]} {national[split:]}",
            f"+49 {national[:split]} {national[split:]}",
            f"0{national[:split]}/{national[split:]}",
            f"+{cc}{national}",
        )
    typed = forms[style]
    if country in ("AE", "SA") and typed.startswith("0") and rng.random() < 0.15:
        typed = typed.translate(_ARABIC_DIGITS)
    return typed


def arabic_digits(text: str) -> str:
    """The same text with Eastern Arabic digits, as typed on an Arabic keyboard."""
    return text.translate(_ARABIC_DIGITS)
