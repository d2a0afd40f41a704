"""Controlled vocabularies shared by every data family (sectors, countries, organisation types).

Each family keeps its own categories (HS sections, Horizon programme parts, help-desk topics)
and maps them onto the one sector vocabulary here, which is what the global filter uses.
Labels are given in English and Japanese; the UI picks one through its translation function.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One entry of a controlled vocabulary."""

    code: str
    en: str
    ja: str


SECTORS: tuple[Term, ...] = (
    Term("agrifood", "Agri-food & bioeconomy", "農業・食品・バイオエコノミー"),
    Term("chemicals", "Chemicals & materials", "化学・素材"),
    Term("energy", "Energy & environment", "エネルギー・環境"),
    Term("health", "Health & life sciences", "医療・ライフサイエンス"),
    Term("ict", "ICT & digital", "情報通信・デジタル"),
    Term("machinery", "Machinery & electronics", "機械・電子"),
    Term("mobility", "Transport & mobility", "輸送・モビリティ"),
    Term("space_security", "Space & security", "宇宙・安全保障"),
    Term("consumer", "Consumer goods & textiles", "消費財・繊維"),
    Term("metals", "Metals & minerals", "金属・鉱物"),
    Term("services", "Services & society", "サービス・社会"),
    Term("research", "Frontier research & skills", "基礎研究・人材育成"),
    Term("other", "Other", "その他"),
)
SECTOR_CODES: tuple[str, ...] = tuple(s.code for s in SECTORS)

ORG_TYPES: tuple[Term, ...] = (
    Term("sme", "SME", "中小企業"),
    Term("large", "Large enterprise", "大企業"),
    Term("university", "University", "大学"),
    Term("research", "Research organisation", "研究機関"),
    Term("public", "Public body", "公的機関"),
    Term("other", "Other", "その他"),
)
ORG_TYPE_CODES: tuple[str, ...] = tuple(o.code for o in ORG_TYPES)

# ISO 3166-1 alpha-2. CORDIS writes Greece as EL and the United Kingdom as UK: see CORDIS_COUNTRY.
EU_MEMBER_STATES: tuple[Term, ...] = (
    Term("AT", "Austria", "オーストリア"),
    Term("BE", "Belgium", "ベルギー"),
    Term("BG", "Bulgaria", "ブルガリア"),
    Term("HR", "Croatia", "クロアチア"),
    Term("CY", "Cyprus", "キプロス"),
    Term("CZ", "Czechia", "チェコ"),
    Term("DK", "Denmark", "デンマーク"),
    Term("EE", "Estonia", "エストニア"),
    Term("FI", "Finland", "フィンランド"),
    Term("FR", "France", "フランス"),
    Term("DE", "Germany", "ドイツ"),
    Term("GR", "Greece", "ギリシャ"),
    Term("HU", "Hungary", "ハンガリー"),
    Term("IE", "Ireland", "アイルランド"),
    Term("IT", "Italy", "イタリア"),
    Term("LV", "Latvia", "ラトビア"),
    Term("LT", "Lithuania", "リトアニア"),
    Term("LU", "Luxembourg", "ルクセンブルク"),
    Term("MT", "Malta", "マルタ"),
    Term("NL", "Netherlands", "オランダ"),
    Term("PL", "Poland", "ポーランド"),
    Term("PT", "Portugal", "ポルトガル"),
    Term("RO", "Romania", "ルーマニア"),
    Term("SK", "Slovakia", "スロバキア"),
    Term("SI", "Slovenia", "スロベニア"),
    Term("ES", "Spain", "スペイン"),
    Term("SE", "Sweden", "スウェーデン"),
)
EU_CODES: tuple[str, ...] = tuple(c.code for c in EU_MEMBER_STATES)

OTHER_COUNTRIES: tuple[Term, ...] = (
    Term("JP", "Japan", "日本"),
    Term("GB", "United Kingdom", "英国"),
    Term("CH", "Switzerland", "スイス"),
    Term("NO", "Norway", "ノルウェー"),
    Term("IS", "Iceland", "アイスランド"),
    Term("US", "United States", "米国"),
    Term("CA", "Canada", "カナダ"),
    Term("KR", "South Korea", "韓国"),
    Term("CN", "China", "中国"),
    Term("TW", "Taiwan", "台湾"),
    Term("IN", "India", "インド"),
    Term("AU", "Australia", "オーストラリア"),
    Term("IL", "Israel", "イスラエル"),
    Term("TR", "Türkiye", "トルコ"),
    Term("UA", "Ukraine", "ウクライナ"),
    Term("SG", "Singapore", "シンガポール"),
    Term("XX", "Other / unknown", "その他・不明"),
)
COUNTRIES: tuple[Term, ...] = EU_MEMBER_STATES + OTHER_COUNTRIES
COUNTRY_CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)
CORDIS_COUNTRY: dict[str, str] = {"EL": "GR", "UK": "GB"}


def country_group(code: str) -> str:
    """Return 'EU', 'JP' or 'other' for an ISO country code."""
    if code in EU_CODES:
        return "EU"
    return "JP" if code == "JP" else "other"


# Japanese regions (used for technology-transfer parties) and prefectures with their region.
JP_REGIONS: tuple[Term, ...] = (
    Term("hokkaido", "Hokkaido", "北海道"),
    Term("tohoku", "Tohoku", "東北"),
    Term("kanto", "Kanto", "関東"),
    Term("chubu", "Chubu", "中部"),
    Term("kansai", "Kansai", "関西"),
    Term("chugoku", "Chugoku", "中国"),
    Term("shikoku", "Shikoku", "四国"),
    Term("kyushu", "Kyushu & Okinawa", "九州・沖縄"),
)
_PREF = [
    ("JP-01", "Hokkaido", "北海道", "hokkaido"), ("JP-02", "Aomori", "青森県", "tohoku"),
    ("JP-03", "Iwate", "岩手県", "tohoku"), ("JP-04", "Miyagi", "宮城県", "tohoku"),
    ("JP-05", "Akita", "秋田県", "tohoku"), ("JP-06", "Yamagata", "山形県", "tohoku"),
    ("JP-07", "Fukushima", "福島県", "tohoku"), ("JP-08", "Ibaraki", "茨城県", "kanto"),
    ("JP-09", "Tochigi", "栃木県", "kanto"), ("JP-10", "Gunma", "群馬県", "kanto"),
    ("JP-11", "Saitama", "埼玉県", "kanto"), ("JP-12", "Chiba", "千葉県", "kanto"),
    ("JP-13", "Tokyo", "東京都", "kanto"), ("JP-14", "Kanagawa", "神奈川県", "kanto"),
    ("JP-15", "Niigata", "新潟県", "chubu"), ("JP-16", "Toyama", "富山県", "chubu"),
    ("JP-17", "Ishikawa", "石川県", "chubu"), ("JP-18", "Fukui", "福井県", "chubu"),
    ("JP-19", "Yamanashi", "山梨県", "chubu"), ("JP-20", "Nagano", "長野県", "chubu"),
    ("JP-21", "Gifu", "岐阜県", "chubu"), ("JP-22", "Shizuoka", "静岡県", "chubu"),
    ("JP-23", "Aichi", "愛知県", "chubu"), ("JP-24", "Mie", "三重県", "kansai"),
    ("JP-25", "Shiga", "滋賀県", "kansai"), ("JP-26", "Kyoto", "京都府", "kansai"),
    ("JP-27", "Osaka", "大阪府", "kansai"), ("JP-28", "Hyogo", "兵庫県", "kansai"),
    ("JP-29", "Nara", "奈良県", "kansai"), ("JP-30", "Wakayama", "和歌山県", "kansai"),
    ("JP-31", "Tottori", "鳥取県", "chugoku"), ("JP-32", "Shimane", "島根県", "chugoku"),
    ("JP-33", "Okayama", "岡山県", "chugoku"), ("JP-34", "Hiroshima", "広島県", "chugoku"),
    ("JP-35", "Yamaguchi", "山口県", "chugoku"), ("JP-36", "Tokushima", "徳島県", "shikoku"),
    ("JP-37", "Kagawa", "香川県", "shikoku"), ("JP-38", "Ehime", "愛媛県", "shikoku"),
    ("JP-39", "Kochi", "高知県", "shikoku"), ("JP-40", "Fukuoka", "福岡県", "kyushu"),
    ("JP-41", "Saga", "佐賀県", "kyushu"), ("JP-42", "Nagasaki", "長崎県", "kyushu"),
    ("JP-43", "Kumamoto", "熊本県", "kyushu"), ("JP-44", "Oita", "大分県", "kyushu"),
    ("JP-45", "Miyazaki", "宮崎県", "kyushu"), ("JP-46", "Kagoshima", "鹿児島県", "kyushu"),
    ("JP-47", "Okinawa", "沖縄県", "kyushu"),
]
JP_PREFECTURES: tuple[Term, ...] = tuple(Term(c, en, ja) for c, en, ja, _ in _PREF)
PREFECTURE_REGION: dict[str, str] = {c: r for c, _, _, r in _PREF}

# ---- Programmes -----------------------------------------------------------------------------
PROGRAMMES: tuple[Term, ...] = (
    Term("vulcanus_jp", "Vulcanus in Japan", "ヴルカヌス・イン・ジャパン"),
    Term("vulcanus_eu", "Vulcanus in Europe", "ヴルカヌス・イン・ヨーロッパ"),
    Term("minerva", "Minerva fellowships", "ミネルヴァ・フェローシップ"),
    Term("training", "Training missions", "研修ミッション"),
)
APPLICATION_STATUSES: tuple[Term, ...] = (
    Term("applied", "Applied (not shortlisted)", "応募（書類選考外）"),
    Term("shortlisted", "Shortlisted", "書類選考通過"),
    Term("selected", "Selected", "採用"),
)
FIELDS_OF_STUDY: tuple[Term, ...] = (
    Term("mechanical", "Mechanical engineering", "機械工学"),
    Term("electrical", "Electrical & electronic engineering", "電気電子工学"),
    Term("computer_science", "Computer science", "情報科学"),
    Term("ict", "ICT & telecommunications", "情報通信"),
    Term("chemistry", "Chemistry & chemical engineering", "化学・化学工学"),
    Term("materials", "Materials science", "材料科学"),
    Term("nanotechnology", "Nanotechnology", "ナノテクノロジー"),
    Term("biotechnology", "Biotechnology", "バイオテクノロジー"),
    Term("civil", "Civil engineering & architecture", "土木・建築"),
    Term("physics", "Physics & mathematics", "物理・数学"),
    Term("business", "Business & management", "経営・マネジメント"),
    Term("other", "Other", "その他"),
)
FIELD_SECTOR: dict[str, str] = {
    "mechanical": "machinery", "electrical": "machinery", "computer_science": "ict", "ict": "ict",
    "chemistry": "chemicals", "materials": "chemicals", "nanotechnology": "chemicals",
    "biotechnology": "health", "civil": "mobility", "physics": "research",
    "business": "services", "other": "other",
}
GENDERS: tuple[Term, ...] = (
    Term("F", "Female", "女性"),
    Term("M", "Male", "男性"),
    Term("X", "Other / not stated", "その他・回答なし"),
)

# ---- Help desks -----------------------------------------------------------------------------
DESKS: tuple[Term, ...] = (
    Term("epa", "EPA helpdesk", "EPAヘルプデスク"),
    Term("procurement", "Public procurement helpdesk", "政府調達ヘルプデスク"),
    Term("techtransfer", "Technology Transfer Helpdesk", "技術移転ヘルプデスク"),
    Term("ncp", "Horizon Europe NCP Japan", "ホライズン・ヨーロッパNCP"),
)
TOPICS: tuple[Term, ...] = (
    Term("rules_of_origin", "Rules of origin & origin procedures", "原産地規則・手続"),
    Term("tariffs", "Tariffs & staging", "関税・段階的撤廃"),
    Term("trq", "Tariff-rate quotas", "関税割当"),
    Term("customs", "Customs", "税関手続"),
    Term("sps", "SPS (food safety, animal & plant health)", "SPS（衛生植物検疫）"),
    Term("tbt", "TBT / standards", "TBT・規格"),
    Term("gi", "Geographical indications", "地理的表示"),
    Term("ipr", "Intellectual property", "知的財産"),
    Term("services_investment", "Services & investment", "サービス・投資"),
    Term("public_procurement", "Public procurement", "政府調達"),
    Term("tenders", "Tender search & bidding", "入札情報・応札"),
    Term("licensing", "Licensing & partner search", "ライセンス・パートナー探索"),
    Term("funding", "Funding calls & eligibility", "公募・応募資格"),
    Term("consortium", "Consortium building", "コンソーシアム形成"),
    Term("other", "Other", "その他"),
)
DESK_TOPICS: dict[str, tuple[str, ...]] = {
    "epa": ("rules_of_origin", "tariffs", "trq", "customs", "sps", "tbt", "gi", "ipr",
            "services_investment", "public_procurement", "other"),
    "procurement": ("public_procurement", "tenders", "other"),
    "techtransfer": ("licensing", "ipr", "other"),
    "ncp": ("funding", "consortium", "ipr", "other"),
}

# ---- Technology transfer --------------------------------------------------------------------
TT_KINDS: tuple[Term, ...] = (
    Term("offer", "Technology offer", "技術提供"),
    Term("request", "Request for proposals", "技術募集"),
)
DEAL_STAGES: tuple[Term, ...] = (
    Term("contact", "Contact", "コンタクト"),
    Term("nda", "NDA", "秘密保持契約"),
    Term("negotiation", "Negotiation", "交渉"),
    Term("signed", "Signed", "締結"),
)
DEAL_STAGE_CODES: tuple[str, ...] = tuple(s.code for s in DEAL_STAGES)
DEAL_TYPES: tuple[Term, ...] = (
    Term("licence", "Licence", "ライセンス"),
    Term("rd_cooperation", "R&D cooperation", "共同研究開発"),
    Term("technical_cooperation", "Technical cooperation", "技術協力"),
    Term("joint_venture", "Joint venture", "合弁事業"),
    Term("commercial", "Commercial agreement", "商業契約"),
)

# ---- Research participation (CORDIS) --------------------------------------------------------
FRAMEWORKS: tuple[Term, ...] = (
    Term("H2020", "Horizon 2020", "ホライズン2020"),
    Term("HORIZON", "Horizon Europe", "ホライズン・ヨーロッパ"),
)
ACTIVITY_TYPE_ORG: dict[str, str] = {
    "HES": "university", "REC": "research", "PRC": "large", "PUB": "public", "OTH": "other",
}
ROLES: tuple[Term, ...] = (
    Term("coordinator", "Coordinator", "コーディネーター"),
    Term("participant", "Participant", "参加者"),
    Term("partner", "Associated partner", "アソシエイトパートナー"),
    Term("thirdParty", "Third party", "第三者"),
)
ROLE_ALIASES: dict[str, str] = {
    "associatedpartner": "partner", "partner": "partner", "thirdparty": "thirdParty",
    "coordinator": "coordinator", "participant": "participant", "beneficiary": "participant",
    "internationalpartner": "partner",
}

# Programme parts: (code, en, ja, sector). Codes as CORDIS writes legalBasis, top two levels.
PROGRAMME_PARTS: tuple[tuple[str, str, str, str], ...] = (
    ("H2020-EU.1.1.", "H2020 ERC", "H2020 欧州研究会議", "research"),
    ("H2020-EU.1.2.", "H2020 Future & emerging technologies", "H2020 FET", "research"),
    ("H2020-EU.1.3.", "H2020 MSCA", "H2020 MSCA", "research"),
    ("H2020-EU.1.4.", "H2020 Research infrastructures", "H2020 研究インフラ", "research"),
    ("H2020-EU.2.1.1.", "H2020 ICT", "H2020 ICT", "ict"),
    ("H2020-EU.2.1.2.", "H2020 Nanotechnologies", "H2020 ナノテクノロジー", "chemicals"),
    ("H2020-EU.2.1.3.", "H2020 Advanced materials", "H2020 先端材料", "chemicals"),
    ("H2020-EU.2.1.4.", "H2020 Biotechnology", "H2020 バイオテクノロジー", "health"),
    ("H2020-EU.2.1.5.", "H2020 Advanced manufacturing", "H2020 先端製造", "machinery"),
    ("H2020-EU.2.1.6.", "H2020 Space", "H2020 宇宙", "space_security"),
    ("H2020-EU.3.1.", "H2020 Health", "H2020 保健", "health"),
    ("H2020-EU.3.2.", "H2020 Food & bioeconomy", "H2020 食料・バイオエコノミー", "agrifood"),
    ("H2020-EU.3.3.", "H2020 Energy", "H2020 エネルギー", "energy"),
    ("H2020-EU.3.4.", "H2020 Transport", "H2020 輸送", "mobility"),
    ("H2020-EU.3.5.", "H2020 Climate & environment", "H2020 気候・環境", "energy"),
    ("H2020-EU.3.6.", "H2020 Inclusive societies", "H2020 包摂的社会", "services"),
    ("H2020-EU.3.7.", "H2020 Secure societies", "H2020 安全な社会", "space_security"),
    ("H2020-EU.5.", "H2020 Science with and for society", "H2020 社会と科学", "services"),
    ("HORIZON.1.1", "HE ERC", "HE 欧州研究会議", "research"),
    ("HORIZON.1.2", "HE MSCA", "HE MSCA", "research"),
    ("HORIZON.1.3", "HE Research infrastructures", "HE 研究インフラ", "research"),
    ("HORIZON.2.1", "HE Health", "HE 保健", "health"),
    ("HORIZON.2.2", "HE Culture, creativity & inclusive society", "HE 文化・創造性・包摂的社会",
     "services"),
    ("HORIZON.2.3", "HE Civil security", "HE 市民の安全", "space_security"),
    ("HORIZON.2.4", "HE Digital, industry & space", "HE デジタル・産業・宇宙", "ict"),
    ("HORIZON.2.5", "HE Climate, energy & mobility", "HE 気候・エネルギー・モビリティ", "energy"),
    ("HORIZON.2.6", "HE Food, bioeconomy & environment", "HE 食料・バイオエコノミー・環境",
     "agrifood"),
    ("HORIZON.3.1", "HE European Innovation Council", "HE 欧州イノベーション会議", "other"),
    ("HORIZON.3.2", "HE Innovation ecosystems", "HE イノベーション・エコシステム", "other"),
    ("OTHER", "Other / unmapped", "その他", "other"),
)
PROGRAMME_PART_SECTOR: dict[str, str] = {p[0]: p[3] for p in PROGRAMME_PARTS}


def programme_part_for(legal_basis: str) -> str:
    """Map a CORDIS legalBasis (any depth, e.g. 'HORIZON.2.4.1') to a known programme part."""
    lb = (legal_basis or "").strip()
    best = ""
    for code in PROGRAMME_PART_SECTOR:
        stem = code.rstrip(".")
        if (lb == stem or lb.startswith(stem + ".")) and len(code) > len(best):
            best = code
    return best or "OTHER"


# ---- EPA utilisation ------------------------------------------------------------------------
DIRECTIONS: tuple[Term, ...] = (
    Term("EU_JP", "EU → Japan (EU exports)", "EU → 日本（EU輸出）"),
    Term("JP_EU", "Japan → EU (Japanese exports)", "日本 → EU（日本輸出）"),
)
# (roman numeral, chapters, en, ja, sector)
HS_SECTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("I", "01-05", "Live animals & animal products", "動物・動物性生産品", "agrifood"),
    ("II", "06-14", "Vegetable products", "植物性生産品", "agrifood"),
    ("III", "15", "Fats & oils", "油脂", "agrifood"),
    ("IV", "16-24", "Prepared foodstuffs, beverages, tobacco", "調製食料品・飲料・たばこ",
     "agrifood"),
    ("V", "25-27", "Mineral products", "鉱物性生産品", "energy"),
    ("VI", "28-38", "Chemicals", "化学工業生産品", "chemicals"),
    ("VII", "39-40", "Plastics & rubber", "プラスチック・ゴム", "chemicals"),
    ("VIII", "41-43", "Hides & leather", "皮革", "consumer"),
    ("IX", "44-46", "Wood", "木材", "other"),
    ("X", "47-49", "Paper", "紙", "other"),
    ("XI", "50-63", "Textiles", "紡織用繊維", "consumer"),
    ("XII", "64-67", "Footwear & headgear", "履物・帽子", "consumer"),
    ("XIII", "68-70", "Stone, ceramics, glass", "石・陶磁・ガラス", "chemicals"),
    ("XIV", "71", "Precious metals", "貴金属", "metals"),
    ("XV", "72-83", "Base metals", "卑金属", "metals"),
    ("XVI", "84-85", "Machinery & electrical equipment", "機械・電気機器", "machinery"),
    ("XVII", "86-89", "Vehicles", "車両・輸送機器", "mobility"),
    ("XVIII", "90-92", "Optical & medical instruments", "光学・医療機器", "health"),
    ("XIX", "93", "Arms", "武器", "space_security"),
    ("XX", "94-96", "Miscellaneous manufactured articles", "雑品", "consumer"),
    ("XXI", "97-99", "Works of art", "美術品", "other"),
)
HS_SECTION_CODES: tuple[str, ...] = tuple(s[0] for s in HS_SECTIONS)
HS_SECTION_SECTOR: dict[str, str] = {s[0]: s[4] for s in HS_SECTIONS}


def hs_section_for_chapter(chapter: int) -> str:
    """Return the HS section (roman numeral) that holds an HS chapter (1-99)."""
    for code, chapters, *_ in HS_SECTIONS:
        lo, _, hi = chapters.partition("-")
        if int(lo) <= chapter <= int(hi or lo):
            return code
    raise ValueError(f"HS chapter {chapter} is outside 01-99")


def label(terms: tuple[Term, ...], code: str, lang: str = "en") -> str:
    """Label of a code in a vocabulary, in the given language (the code itself if unknown)."""
    for t in terms:
        if t.code == code:
            return t.ja if lang == "ja" else t.en
    return code
