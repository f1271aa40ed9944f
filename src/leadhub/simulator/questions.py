"""Lead form questions in three languages, and the answers people give to them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from enum import StrEnum

from leadhub.simulator import people

LOCALES = ("tr_TR", "ar_AR", "en_GB")


class Oddity(StrEnum):
    """Things real leads sometimes do that an importer must survive."""

    MISSING_FIELDS = "missing_fields"
    LONG_ANSWER = "long_answer"
    EMOJI = "emoji"
    BAD_PHONE = "bad_phone"


LONG_ANSWER_LENGTH = 2000

# key -> (type, (tr_TR label, ar_AR label, en_GB label))
_STANDARD = {
    "full_name": ("FULL_NAME", ("Ad soyad", "الاسم الكامل", "Full name")),
    "email": ("EMAIL", ("E-posta", "البريد الإلكتروني", "Email")),
    "phone_number": ("PHONE", ("Telefon numarası", "رقم الهاتف", "Phone number")),
    "city": ("CITY", ("Şehir", "المدينة", "City")),
    "date_of_birth": ("DOB", ("Doğum tarihi", "تاريخ الميلاد", "Date of birth")),
}

# key -> ((labels per locale), [(option key, tr_TR, ar_AR, en_GB)]); no options: free text.
_CUSTOM = {
    "which_treatment": (
        ("Hangi tedaviyle ilgileniyorsunuz?", "ما العلاج الذي يهمك؟",
         "Which treatment are you interested in?"),
        [("hollywood_smile", "Gülüş tasarımı", "ابتسامة هوليوود", "Hollywood smile"),
         ("dental_implants", "İmplant", "زراعة الأسنان", "Dental implants"),
         ("hair_transplant", "Saç ekimi", "زراعة الشعر", "Hair transplant"),
         ("rhinoplasty", "Burun estetiği", "تجميل الأنف", "Rhinoplasty"),
         ("teeth_whitening", "Diş beyazlatma", "تبييض الأسنان", "Teeth whitening")],
    ),
    "budget": (
        ("Bütçeniz nedir?", "ما هي ميزانيتك؟", "What is your budget?"),
        [("under_2000", "2.000 €'dan az", "أقل من ٢٠٠٠ يورو", "Under €2,000"),
         ("2000_5000", "2.000 – 5.000 €", "٢٠٠٠ – ٥٠٠٠ يورو", "€2,000 – €5,000"),
         ("5000_10000", "5.000 – 10.000 €", "٥٠٠٠ – ١٠٠٠٠ يورو", "€5,000 – €10,000"),
         ("over_10000", "10.000 €'dan fazla", "أكثر من ١٠٠٠٠ يورو", "Over €10,000")],
    ),
    "best_time_to_call": (
        ("Sizi ne zaman arayalım?", "ما هو أفضل وقت للاتصال بك؟", "Best time to call you?"),
        [("morning", "Sabah", "صباحاً", "Morning"),
         ("afternoon", "Öğleden sonra", "بعد الظهر", "Afternoon"),
         ("evening", "Akşam", "مساءً", "Evening"),
         ("anytime", "Fark etmez", "أي وقت", "Any time")],
    ),
    "age": (("Yaşınız", "كم عمرك؟", "How old are you?"), []),
    "message": (
        ("Doktora sormak istedikleriniz", "هل لديك أسئلة للطبيب؟",
         "Anything you would like to ask the doctor?"),
        [],
    ),
}  # fmt: skip

_MESSAGES = {
    "tr_TR": ("Fiyat bilgisi alabilir miyim?", "Tedavi kaç gün sürüyor?",
              "Otel ve transfer dahil mi?", "Hafta sonu arayabilirsiniz.", ""),
    "ar_AR": ("كم السعر؟", "هل الفندق مشمول؟", "أريد موعداً الشهر القادم",
              "أفضل التواصل عبر واتساب", ""),
    "en_GB": ("How much does it cost?", "Is the hotel included?", "Can I travel next month?",
              "Please send me before/after photos.", ""),
}  # fmt: skip
_DISCLAIMERS = {
    "tr_TR": ("kvkk_consent", "marketing_consent"),
    "ar_AR": ("marketing_consent", "whatsapp_updates"),
    "en_GB": ("marketing_consent", "sms_reminders"),
}
_EMOJI = ("😍", "🦷", "✨", "🙏", "❤️", "👩🏽‍⚕️")


def question_specs(locale: str, *, age_style: str = "dob") -> list[dict]:
    """The questions of a form in `locale`, without ids: key, label, type and options."""
    keys = ["full_name", "email", "phone_number", "city", "which_treatment", "budget"]
    keys += ["best_time_to_call", "date_of_birth" if age_style == "dob" else "age", "message"]
    specs = []
    for key in keys:
        column = LOCALES.index(locale)
        if key in _STANDARD:
            kind, labels = _STANDARD[key]
            specs.append({"key": key, "label": labels[column], "type": kind})
            continue
        labels, options = _CUSTOM[key]
        spec: dict = {"key": key, "label": labels[column], "type": "CUSTOM"}
        if options:
            spec["options"] = [{"key": o[0], "value": o[1 + column]} for o in options]
        specs.append(spec)
    return specs


def disclaimer_keys(locale: str) -> tuple[str, ...]:
    """The checkbox keys of a form's custom disclaimer."""
    return _DISCLAIMERS[locale]


def answers(
    rng: random.Random, locale: str, specs: list[dict], oddities: frozenset[Oddity], today: date
) -> list[tuple[str, str]]:
    """One person's answers to `specs`, as (question key, value) in form order."""
    who = people.person(rng, locale)
    values: dict[str, str] = {
        "full_name": who.full_name,
        "email": people.email(rng, who.latin_name),
        "phone_number": people.phone(rng, who.country),
        "city": who.city,
    }
    age = rng.randint(21, 68)
    born = today - timedelta(days=age * 365 + rng.randint(0, 364))
    values["date_of_birth"] = born.isoformat()
    values["age"] = _typed_age(rng, locale, age)
    values["message"] = rng.choice(_MESSAGES[locale])
    for spec in specs:
        if spec.get("options"):
            values[spec["key"]] = rng.choice(spec["options"])["key"]
    if Oddity.BAD_PHONE in oddities:
        values["phone_number"] = rng.choice(people.UNPARSEABLE_PHONES)
    if Oddity.EMOJI in oddities:
        first, _, last = values["full_name"].partition(" ")
        values["full_name"] = f"{first} {rng.choice(_EMOJI)} {last}".strip()
        values["message"] = f"{values['message']} {''.join(rng.sample(_EMOJI, 3))}".strip()
    if Oddity.LONG_ANSWER in oddities:
        filler = " ".join(m for m in _MESSAGES[locale] if m)
        values["message"] = (filler + " ") * (LONG_ANSWER_LENGTH // len(filler) + 1)
        values["message"] = values["message"][:LONG_ANSWER_LENGTH]
    keys = [spec["key"] for spec in specs]
    if Oddity.MISSING_FIELDS in oddities:
        droppable = [k for k in keys if k not in ("full_name", "phone_number")]
        missing = {"email", *rng.sample(droppable, min(2, len(droppable)))}
        keys = [k for k in keys if k not in missing]
    return [(key, values[key]) for key in keys if key != "message" or values[key]]


def _typed_age(rng: random.Random, locale: str, age: int) -> str:
    """An age as people type it into a free-text box."""
    if locale == "tr_TR":
        return rng.choice((str(age), f"{age} yaşındayım", f"{age} yaş"))
    if locale == "ar_AR":
        return rng.choice((str(age), people.arabic_digits(str(age)), f"{age} سنة"))
    return rng.choice((str(age), f"{age} years", f"{age} yrs"))


def disclaimer_answers(rng: random.Random, locale: str) -> list[tuple[str, bool]]:
    """Which consent boxes the person ticked."""
    return [(key, rng.random() < 0.7) for key in _DISCLAIMERS[locale]]
