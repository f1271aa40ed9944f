"""Word pools the generator combines: names, cities, phone prefixes, texts. No Faker per row."""

from __future__ import annotations


def words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


TURKISH_FIRST = words(
    "Ayşe Fatma Emine Hatice Zeynep Elif Meryem Şerife Sultan Hülya Özlem Gülşen Büşra Esra Merve "
    "Tuğba Şeyma Kübra Yasemin Derya Dilek Songül Nurcan Gökçe İrem Ebru Sibel Aslı Çiğdem Gülay "
    "Seda Burcu Ilgın Işıl Ceren Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman "
    "Yusuf Murat Ömer Ramazan Halil Süleyman Abdullah Mahmut Salih Kemal Recep Emre Burak Serkan "
    "Oğuz Barış Uğur Çağlar Gökhan Tolga Kaan Onur Yiğit Eren Doğan Cem Şükrü Ilgaz Işık"
)
TURKISH_LAST = words(
    "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan "
    "Çetin Kara Koç Kurt Özkan Şimşek Polat Özçelik Korkmaz Erdoğan Güneş Aksoy Tekin Bulut "
    "Yüksel Güler Işık Kaplan Avcı Sarı Keskin Ünal Acar Tunç Başaran Karataş Coşkun Altıntaş "
    "Bozkurt Uçar Gündoğdu Ateş Kılınç Türkmen Ekinci Duman Çakır Ağaoğlu Şenol Ilıcalı Dağdelen"
)

# (Arabic script, how the same person writes it in Latin letters)
ARABIC_FIRST = (
    ("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("عبدالله", "Abdullah"), ("خالد", "Khalid"),
    ("عمر", "Omar"), ("علي", "Ali"), ("يوسف", "Yousef"), ("إبراهيم", "Ibrahim"), ("سعود", "Saud"),
    ("فيصل", "Faisal"), ("سلطان", "Sultan"), ("ناصر", "Nasser"), ("حمد", "Hamad"),
    ("راشد", "Rashid"), ("ماجد", "Majid"), ("عبدالرحمن", "Abdulrahman"), ("طارق", "Tariq"),
    ("سالم", "Salem"), ("منصور", "Mansour"), ("بدر", "Badr"), ("فهد", "Fahad"), ("تركي", "Turki"),
    ("زايد", "Zayed"), ("مشعل", "Mishal"), ("حسن", "Hassan"), ("حسين", "Hussein"),
    ("مصطفى", "Mustafa"), ("ياسر", "Yasser"), ("وليد", "Waleed"), ("هشام", "Hisham"),
    ("فاطمة", "Fatima"), ("عائشة", "Aisha"), ("مريم", "Maryam"), ("نورة", "Noura"),
    ("سارة", "Sara"), ("ليلى", "Layla"), ("هند", "Hind"), ("ريم", "Reem"), ("منى", "Mona"),
    ("أمل", "Amal"), ("لطيفة", "Latifa"), ("شيخة", "Shaikha"), ("حصة", "Hessa"),
    ("جواهر", "Jawaher"), ("دانة", "Dana"), ("لينا", "Lina"), ("رنا", "Rana"), ("هيفاء", "Haifa"),
    ("أسماء", "Asma"), ("خديجة", "Khadija"), ("زينب", "Zainab"), ("سلمى", "Salma"),
    ("نوف", "Nouf"), ("العنود", "Alanoud"), ("مها", "Maha"), ("غادة", "Ghada"), ("رزان", "Razan"),
    ("شهد", "Shahad"), ("جميلة", "Jamila"), ("آمنة", "Amna"),
)  # fmt: skip
ARABIC_LAST = (
    ("العتيبي", "Al Otaibi"), ("القحطاني", "Al Qahtani"), ("الشمري", "Al Shammari"),
    ("الدوسري", "Al Dosari"), ("الحربي", "Al Harbi"), ("المطيري", "Al Mutairi"),
    ("الغامدي", "Al Ghamdi"), ("الزهراني", "Al Zahrani"), ("السبيعي", "Al Subaie"),
    ("العنزي", "Al Enezi"), ("المنصوري", "Al Mansoori"), ("الكعبي", "Al Kaabi"),
    ("الهاشمي", "Al Hashimi"), ("النعيمي", "Al Nuaimi"), ("الشامسي", "Al Shamsi"),
    ("المزروعي", "Al Mazrouei"), ("الظاهري", "Al Dhaheri"), ("البلوشي", "Al Balushi"),
    ("الفلاسي", "Al Falasi"), ("السويدي", "Al Suwaidi"), ("الرميثي", "Al Romaithi"),
    ("المهيري", "Al Muhairi"), ("الخالدي", "Al Khalidi"), ("الشهري", "Al Shehri"),
    ("العمري", "Al Omari"), ("السلمي", "Al Sulami"), ("الرشيدي", "Al Rashidi"),
    ("الجابري", "Al Jaberi"), ("الأحمدي", "Al Ahmadi"), ("التميمي", "Al Tamimi"),
    ("حداد", "Haddad"), ("خوري", "Khoury"), ("منصور", "Mansour"), ("يوسف", "Youssef"),
)  # fmt: skip
ENGLISH_FIRST = words(
    "James John Robert Michael David William Richard Thomas Daniel Matthew Oliver Jack Harry "
    "George Charlie Jacob Liam Noah Mary Patricia Jennifer Linda Elizabeth Sarah Jessica Emily "
    "Olivia Amelia Isla Ava Sophie Grace Chloe Lucy Hannah Emma Mohammed Aisha"
)
ENGLISH_LAST = words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "O'Brien Khan"
)
GERMAN_FIRST = words(
    "Lukas Leon Finn Jonas Felix Maximilian Paul Jürgen Anna Lena Lea Hannah Mia Laura Julia "
    "Sophie Jörg Björn Käthe"
)
GERMAN_LAST = words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Groß Weiß"
)
DUTCH_FIRST = words("Daan Sem Lucas Levi Bram Thijs Emma Julia Sanne Lotte Fleur Anouk Sven Joëlle")
DUTCH_LAST = words(
    "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Visser|Smit|Meijer|de Boer|Mulder|"
    "de Groot|Bos|Vos|Peters|Hendriks",
    sep="|",
)

# Name cultures and how likely each is among the leads of a distributor's country.
CULTURES_BY_COUNTRY = {
    "TR": (("turkish", 92), ("english", 4), ("arabic_latin", 4)),
    "AE": (("arabic", 55), ("arabic_latin", 30), ("english", 10), ("turkish", 5)),
    "SA": (("arabic", 65), ("arabic_latin", 30), ("english", 5)),
    "GB": (("english", 75), ("turkish", 10), ("arabic_latin", 15)),
    "DE": (("german", 45), ("turkish", 35), ("arabic_latin", 10), ("english", 10)),
    "NL": (("dutch", 45), ("turkish", 30), ("arabic_latin", 15), ("english", 10)),
}
LANGUAGE_OF_CULTURE = {"turkish": "tr", "arabic": "ar", "arabic_latin": "ar", "english": "en"}
LANGUAGE_OF_COUNTRY = {"TR": "tr", "AE": "ar", "SA": "ar", "GB": "en", "DE": "de", "NL": "nl"}

CITIES = {
    "TR": words(
        "İstanbul Ankara İzmir Bursa Antalya Konya Adana Gaziantep Kayseri Eskişehir Trabzon "
        "Samsun Mersin Diyarbakır Muğla Şanlıurfa"
    ),
    "AE": words("Dubai|Abu Dhabi|Sharjah|Al Ain|Ajman|Ras Al Khaimah|دبي|أبوظبي", "|"),
    "SA": words("Riyadh Jeddah Mecca Medina Dammam Khobar الرياض جدة الدمام"),
    "GB": words("London Manchester Birmingham Leeds Glasgow Liverpool Bristol Sheffield Edinburgh"),
    "DE": words("Berlin|Hamburg|München|Köln|Frankfurt am Main|Stuttgart|Düsseldorf", "|"),
    "NL": words("Amsterdam|Rotterdam|Den Haag|Utrecht|Eindhoven|Groningen|Tilburg", "|"),
}

# (country calling code, national mobile prefixes, free digits after the prefix)
PHONE_PLANS = {
    "TR": (
        "90",
        words(
            "501 505 506 507 530 531 532 533 534 535 536 537 538 539 541 542 543 544 545 546 "
            "547 548 549 551 552 553 554 555 559"
        ),
        7,
    ),
    "AE": ("971", words("50 52 54 55 56 58"), 7),
    "SA": ("966", words("50 53 54 55 56 58 59"), 7),
    "GB": ("44", words("7400 7500 7701 7710 7720 7730 7740 7800 7810 7900 7910 7920"), 6),
    "DE": ("49", words("1511 1512 1520 1522 1570 1590 1601 1621 1631 1701 1711 1721"), 7),
    "NL": ("31", words("61 62 63 64 65 68"), 7),
}

EMAIL_DOMAINS = {
    "TR": (("gmail.com", 60), ("hotmail.com", 25), ("yandex.com.tr", 5), ("icloud.com", 10)),
    "AE": (("gmail.com", 55), ("hotmail.com", 20), ("outlook.com", 15), ("icloud.com", 10)),
    "SA": (("gmail.com", 60), ("hotmail.com", 25), ("outlook.sa", 5), ("icloud.com", 10)),
    "GB": (("gmail.com", 45), ("hotmail.co.uk", 20), ("outlook.com", 15), ("btinternet.com", 20)),
    "DE": (("gmail.com", 35), ("gmx.de", 25), ("web.de", 25), ("t-online.de", 15)),
    "NL": (("gmail.com", 45), ("ziggo.nl", 20), ("live.nl", 20), ("kpnmail.nl", 15)),
}

TREATMENT_WEIGHTS = {
    "hair_transplant": 30,
    "dental_implants": 18,
    "teeth_whitening": 6,
    "veneers": 12,
    "rhinoplasty": 9,
    "liposuction": 6,
    "breast_aesthetics": 5,
    "bariatric_surgery": 6,
    "eye_surgery": 4,
    "other": 4,
}
WHEN = (
    ("as_soon_as_possible", 18),
    ("within_1_month", 22),
    ("1_3_months", 28),
    ("3_6_months", 17),
    ("just_researching", 15),
)
BUDGET = (
    ("under_1000_eur", 25),
    ("1000_2500_eur", 35),
    ("2500_5000_eur", 28),
    ("over_5000_eur", 12),
)
EXTRA_QUESTION = {
    "hair_transplant": ("how_much_hair_loss?", ("front_only", "crown", "front_and_crown", "full")),
    "dental_implants": ("how_many_teeth?", ("1_2", "3_5", "6_10", "full_mouth")),
    "veneers": ("how_many_teeth?", ("4_6", "8_10", "16_20")),
    "bariatric_surgery": ("your_bmi?", ("30_35", "35_40", "over_40")),
}
LOST_REASONS = (
    "Price too high",
    "Chose another clinic",
    "No answer after 5 calls",
    "Not ready to travel",
    "Medical reasons",
    "Fiyat yüksek bulundu",
    "Başka klinik seçti",
    "السعر مرتفع",
)
NOTES = (
    "Called, asked for photos of the donor area.",
    "Sent price list and before/after gallery on WhatsApp.",
    "Hasta fotoğraf gönderdi, doktor değerlendirmesi bekleniyor.",
    "Fiyat teklifi iletildi, otel ve transfer dahil.",
    "تم إرسال عرض السعر عبر واتساب",
    "المريض يفضل السفر بعد رمضان",
    "Wants to come with a friend; asked for a group discount.",
    "Flight dates confirmed for next month, waiting for deposit.",
    "Prefers a call in the evening after 19:00.",
)
TAGS = (
    ("vip", "#d63384"),
    ("callback", "#0d6efd"),
    ("whatsapp", "#198754"),
    ("price_sensitive", "#fd7e14"),
    ("returning", "#6f42c1"),
    ("interpreter", "#20c997"),
)
