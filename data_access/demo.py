"""Deterministic synthetic demo data, calibrated to the Centre's published figures.

Same seed and same `until` date give the same rows. Magnitudes follow
`shared/reference/published-figures.md`; the UI labels all of it as demo data.

    python -m data_access.demo                      # load demo data into DATABASE_URL
    python -m data_access.demo --enquiries 1000000  # scale help-desk enquiries for benchmarks
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import os
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, select

from data_access import audit, vocab
from data_access.audit import Actor
from data_access.bulk import bulk_insert
from data_access.db import bump_data_version, schema_exists, set_meta, upgrade_schema
from data_access.models import (
    Base,
    EpaUtilisation,
    HelpdeskEnquiry,
    ImportLog,
    Meta,
    ProgrammeApplication,
    ResearchParticipation,
    ResearchProject,
    TechDeal,
    TechOffer,
)

if TYPE_CHECKING:
    from data_access.summaries import Status

DEFAULT_SEED = 20190201
FIRST_YEAR = 2014
FACT_TABLES = (ProgrammeApplication, HelpdeskEnquiry, TechOffer, TechDeal,
               ResearchParticipation, ResearchProject, EpaUtilisation)


def _p(weights: dict[str, float]) -> tuple[list[str], np.ndarray]:
    keys = list(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    return keys, w / w.sum()


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys, p = _p(weights)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p)]


EU_WEIGHTS = {  # rough size of each member state's pool of applicants/enquirers
    "DE": 14, "FR": 11, "IT": 12, "ES": 12, "PL": 7, "NL": 5, "BE": 4, "PT": 5, "GR": 5,
    "RO": 4, "CZ": 3, "HU": 2.5, "SE": 2.5, "AT": 2.5, "IE": 2, "DK": 1.5, "FI": 1.5,
    "SK": 1.2, "BG": 1.5, "HR": 1, "SI": 0.8, "LT": 0.8, "LV": 0.5, "EE": 0.5, "CY": 0.4,
    "LU": 0.3, "MT": 0.3,
}
PREFECTURE_WEIGHTS = {"JP-13": 30, "JP-27": 12, "JP-14": 9, "JP-23": 8, "JP-26": 7, "JP-28": 5,
                      "JP-40": 5, "JP-04": 4, "JP-01": 4, "JP-11": 3, "JP-12": 3, "JP-34": 3,
                      "JP-22": 2, "JP-08": 2, "JP-20": 1.5, "JP-15": 1.5, "JP-33": 1,
                      "JP-43": 1, "JP-17": 1, "JP-47": 0.5}


# ---- Programmes -----------------------------------------------------------------------------
def _programme_rows(rng: np.random.Generator, until: dt.date) -> list[tuple]:
    fields_jp = {"mechanical": 18, "electrical": 15, "computer_science": 14, "ict": 8,
                 "chemistry": 10, "materials": 7, "nanotechnology": 4, "biotechnology": 6,
                 "civil": 7, "physics": 5, "business": 2, "other": 4}
    host_sectors = {"machinery": 30, "ict": 20, "chemicals": 15, "mobility": 12, "energy": 10,
                    "health": 6, "metals": 4, "consumer": 3}
    rows: list[tuple] = []
    for year in range(FIRST_YEAR, until.year + 1):
        t = (year - FIRST_YEAR) / 12
        specs = [
            # programme, applicants, shortlisted, selected, country pool
            ("vulcanus_jp", int(rng.integers(700, 1000) * (0.85 if year in (2020, 2021) else 1)),
             int(rng.integers(110, 131)),
             int(rng.integers(22, 28)) if year in (2020, 2021) else
             (int(rng.integers(30, 36)) if year >= 2026 else int(rng.integers(30, 41))), "EU"),
            ("vulcanus_eu", int(rng.integers(55, 90)), int(rng.integers(28, 36)),
             int(rng.integers(16, 24)), "JP"),
            ("minerva", int(rng.integers(35, 60)), int(rng.integers(10, 15)),
             int(rng.integers(4, 9)), "EU"),
            ("training", int(rng.integers(60, 110)), int(rng.integers(30, 40)),
             int(rng.integers(18, 26)), "EU"),
        ]
        for prog, n_app, n_short, n_sel, pool in specs:
            if prog == "minerva" and year < 2015:
                continue
            field = _choice(rng, fields_jp, n_app)
            female_share = 0.28 + 0.10 * t
            gender = rng.choice(np.array(["F", "M", "X", ""], dtype=object), size=n_app,
                                p=[female_share * 0.95, (1 - female_share) * 0.95, 0.01, 0.04])
            if pool == "EU":
                country = _choice(rng, EU_WEIGHTS, n_app)
                pref = np.array([None] * n_app, dtype=object)
            else:
                country = np.array(["JP"] * n_app, dtype=object)
                pref = _choice(rng, PREFECTURE_WEIGHTS, n_app)
            # Engineering fields are a little likelier to be shortlisted: host companies ask.
            merit = rng.random(n_app) + np.isin(field, ["mechanical", "electrical",
                                                        "computer_science"]) * 0.15
            order = np.argsort(-merit)
            status = np.array(["applied"] * n_app, dtype=object)
            status[order[:n_short]] = "shortlisted"
            status[order[:n_sel]] = "selected"
            host = np.array([None] * n_app, dtype=object)
            sel = status == "selected"
            host[sel] = _choice(rng, host_sectors, int(sel.sum()))
            for i in range(n_app):
                rows.append((
                    f"DEMO-{prog}-{year}-{i + 1:04d}", prog, year, country[i], pref[i],
                    field[i], gender[i] or None, status[i], vocab.FIELD_SECTOR[field[i]],
                    host[i], True,
                ))
    return rows


PROGRAMME_COLUMNS = ("external_id", "programme", "cycle_year", "country_code", "prefecture",
                     "field_of_study", "gender", "status", "sector_code", "host_sector",
                     "is_demo")


# ---- Help desks -----------------------------------------------------------------------------
def _month_starts(until: dt.date) -> list[dt.date]:
    out = []
    y, m = FIRST_YEAR, 1
    while (y, m) <= (until.year, until.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _desk_intensity(desk: str, month: dt.date) -> float:
    """Expected enquiries per month for a desk: the EPA desk opens with the EPA (Feb 2019)."""
    k = (month.year - FIRST_YEAR) * 12 + month.month - 1
    if desk == "epa":
        if month < dt.date(2019, 2, 1):
            # the desk answered a trickle of preparatory questions from the 2018 signature on
            return 25.0 if month >= dt.date(2018, 7, 1) else 0.0
        since = (month.year - 2019) * 12 + month.month - 2
        return 120 + 330 * np.exp(-since / 5.0) + 10 * np.sin(since / 6.0)
    if desk == "procurement":
        return 18 + 0.08 * k
    if desk == "techtransfer":
        return 35 + 0.05 * k + 6 * np.sin(k / 4.0)
    # NCP: busier when Horizon Europe starts (2021) and around spring call deadlines
    base = 16 + (10 if month.year >= 2021 else 0)
    return base * (1.4 if month.month in (2, 3, 4, 9) else 1.0)


DESK_REQUESTERS = {
    "epa": {"sme": 55, "large": 22, "public": 6, "other": 12, "university": 2, "research": 3},
    "procurement": {"sme": 40, "large": 45, "public": 5, "other": 10},
    "techtransfer": {"sme": 35, "large": 15, "university": 25, "research": 20, "other": 5},
    "ncp": {"university": 40, "research": 30, "sme": 15, "large": 8, "public": 5, "other": 2},
}
DESK_SECTORS = {
    "epa": {"agrifood": 30, "chemicals": 10, "machinery": 12, "consumer": 14, "mobility": 8,
            "health": 7, "metals": 5, "services": 8, "energy": 3, "ict": 3},
    "procurement": {"mobility": 25, "machinery": 15, "ict": 15, "health": 10, "energy": 15,
                    "services": 15, "space_security": 5},
    "techtransfer": {"ict": 20, "health": 18, "chemicals": 15, "machinery": 15, "energy": 15,
                     "agrifood": 7, "mobility": 6, "other": 4},
    "ncp": {"research": 25, "health": 18, "ict": 18, "energy": 14, "agrifood": 8,
            "space_security": 5, "mobility": 6, "services": 6},
}
DESK_COUNTRY_JP = {"epa": 0.35, "procurement": 0.05, "techtransfer": 0.45, "ncp": 0.85}
DESK_MEDIAN_DAYS = {"epa": 4.0, "procurement": 5.0, "techtransfer": 6.0, "ncp": 3.0}


def _epa_topic_weights(year: int) -> dict[str, float]:
    t = max(0, year - 2019)
    return {"rules_of_origin": 38 - 2.5 * t, "tariffs": 15, "trq": 5, "customs": 9 + 1.5 * t,
            "sps": 7, "tbt": 6, "gi": 4, "ipr": 3, "services_investment": 4 + 0.5 * t,
            "public_procurement": 4, "other": 5}


def _topic_weights(desk: str, year: int) -> dict[str, float]:
    if desk == "epa":
        return _epa_topic_weights(year)
    return {"procurement": {"public_procurement": 55, "tenders": 40, "other": 5},
            "techtransfer": {"licensing": 70, "ipr": 22, "other": 8},
            "ncp": {"funding": 60, "consortium": 28, "ipr": 6, "other": 6}}[desk]


ENQUIRY_COLUMNS = ("external_id", "desk", "topic", "received_date", "answered_date",
                   "sector_code", "requester_type", "country_code", "is_demo")


def _enquiry_rows(rng: np.random.Generator, until: dt.date, total: int | None):
    """Yield enquiry tuples; `total` rescales the natural volume for benchmarks."""
    months = _month_starts(until)
    desks = [d.code for d in vocab.DESKS]
    lam = np.array([[_desk_intensity(d, m) for m in months] for d in desks])
    # the current month is only partly over
    last_days = calendar.monthrange(until.year, until.month)[1]
    lam[:, -1] *= until.day / last_days
    if total is None:
        counts = rng.poisson(lam)
    else:
        counts = rng.multinomial(total, (lam / lam.sum()).ravel()).reshape(lam.shape)
    eu_keys, eu_p = _p(EU_WEIGHTS)
    eu_arr = np.array(eu_keys, dtype=object)
    others = np.array(["GB", "CH", "NO", "US", "KR", "XX"], dtype=object)
    seq = 0
    until64 = np.datetime64(until)
    for di, desk in enumerate(desks):
        for year in sorted({m.year for m in months}):
            idx = [mi for mi, m in enumerate(months) if m.year == year]
            n = int(counts[di, idx].sum())
            if n == 0:
                continue
            month_of = np.repeat(np.array([np.datetime64(months[mi]) for mi in idx]),
                                 counts[di, idx])
            days_in = np.array([calendar.monthrange(months[mi].year, months[mi].month)[1]
                                for mi in idx])
            span = np.repeat(days_in, counts[di, idx])
            received = month_of + (rng.random(n) * span).astype("timedelta64[D]")
            received = np.minimum(received, until64)
            topic = _choice(rng, _topic_weights(desk, year), n)
            sector = _choice(rng, DESK_SECTORS[desk], n)
            req = _choice(rng, DESK_REQUESTERS[desk], n)
            u = rng.random(n)
            country = np.where(u < DESK_COUNTRY_JP[desk], "JP",
                               eu_arr[rng.choice(len(eu_arr), size=n, p=eu_p)]).astype(object)
            country[u > 0.97] = others[rng.integers(0, len(others), size=int((u > 0.97).sum()))]
            median = DESK_MEDIAN_DAYS[desk] * (1.8 if desk == "epa" and year == 2019 else 1.0)
            days = np.floor(rng.lognormal(np.log(median), 0.75, n)).astype(int)
            answered = received + days.astype("timedelta64[D]")
            open_ = answered > until64
            rec_s = received.astype(str)
            ans_s = answered.astype(str).astype(object)
            ans_s[open_] = None
            for i in range(n):
                seq += 1
                yield (f"DEMO-HD-{seq:08d}", desk, topic[i], rec_s[i], ans_s[i], sector[i],
                       req[i], country[i], True)


# ---- Technology transfer --------------------------------------------------------------------
OFFER_COLUMNS = ("external_id", "kind", "published_date", "withdrawn_date", "sector_code",
                 "country_code", "org_type", "is_demo")
DEAL_COLUMNS = ("external_id", "offer_external_id", "stage", "opened_date", "signed_date",
                "deal_type", "sector_code", "eu_country_code", "jp_region", "is_demo")
TT_SECTORS = {"ict": 18, "health": 16, "chemicals": 16, "machinery": 16, "energy": 14,
              "agrifood": 6, "mobility": 7, "metals": 3, "consumer": 2, "other": 2}


def _random_dates(rng: np.random.Generator, start: dt.date, end: dt.date, n: int) -> np.ndarray:
    span = (end - start).days + 1
    return np.datetime64(start) + rng.integers(0, span, n).astype("timedelta64[D]")


def _tech_rows(rng: np.random.Generator, until: dt.date) -> tuple[list[tuple], list[tuple]]:
    offers: list[tuple] = []
    until64 = np.datetime64(until)
    seq = 0
    # The database predates the dashboard: offers since 2008 make up today's stock (>20,000).
    for year in range(2008, until.year + 1):
        end = min(dt.date(year, 12, 31), until)
        for kind, n in (("offer", int(rng.normal(2050, 120))),
                        ("request", int(rng.normal(260, 30)))):
            pub = _random_dates(rng, dt.date(year, 1, 1), end, n)
            gone = rng.random(n) < (0.40 if kind == "offer" else 0.7)
            wd = pub + rng.integers(365, 365 * 8, n).astype("timedelta64[D]")
            wd_s = wd.astype(str).astype(object)
            wd_s[~gone | (wd > until64)] = None
            sector = _choice(rng, TT_SECTORS, n)
            country = np.where(rng.random(n) < 0.55, "JP",
                               _choice(rng, EU_WEIGHTS, n)).astype(object)
            org = _choice(rng, {"sme": 35, "large": 25, "university": 25, "research": 15}, n)
            pub_s = pub.astype(str)
            for i in range(n):
                seq += 1
                offers.append((f"DEMO-TT-{kind[0].upper()}{seq:06d}", kind, pub_s[i], wd_s[i],
                               sector[i], country[i], org[i], True))
    deals: list[tuple] = []
    regions = {"kanto": 40, "kansai": 20, "chubu": 15, "kyushu": 7, "tohoku": 6,
               "chugoku": 5, "hokkaido": 4, "shikoku": 3}
    dtypes = {"licence": 35, "rd_cooperation": 30, "technical_cooperation": 18,
              "commercial": 12, "joint_venture": 5}
    dseq = 0
    for year in range(FIRST_YEAR, until.year + 1):
        n = int(rng.normal(130 + 8 * (year - FIRST_YEAR), 10))
        end = min(dt.date(year, 12, 31), until)
        opened = _random_dates(rng, dt.date(year, 1, 1), end, n)
        u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
        reach = np.where(u1 < 0.45, np.where(u2 < 0.55, np.where(u3 < 0.5, 3, 2), 1), 0)
        signed = opened + rng.integers(90, 540, n).astype("timedelta64[D]")
        not_yet = (reach == 3) & (signed > until64)
        reach[not_yet] = 2
        signed_s = signed.astype(str).astype(object)
        signed_s[reach < 3] = None
        sector = _choice(rng, TT_SECTORS, n)
        eu = _choice(rng, EU_WEIGHTS, n)
        reg = _choice(rng, regions, n)
        dtype = _choice(rng, dtypes, n)
        op_s = opened.astype(str)
        for i in range(n):
            dseq += 1
            offer = offers[int(rng.integers(0, len(offers)))][0]
            deals.append((f"DEMO-DEAL-{dseq:05d}", offer, vocab.DEAL_STAGE_CODES[reach[i]],
                          op_s[i], signed_s[i], dtype[i], sector[i], eu[i], reg[i], True))
    return offers, deals


# ---- Research participation -----------------------------------------------------------------
PROJECT_COLUMNS = ("id", "acronym", "title", "framework", "legal_basis", "programme_part",
                   "start_date", "end_date", "total_cost", "ec_max_contribution", "sector_code",
                   "content_update", "is_demo")
PARTICIPATION_COLUMNS = ("project_id", "organisation_id", "organisation_name", "country_code",
                         "activity_type", "org_type", "role", "sme", "ec_contribution", "city",
                         "is_demo")
JP_ORGS = [  # (name, activity type, city); companies are fictional, institutions generic
    ("The University of Tokyo", "HES", "Tokyo"), ("Kyoto University", "HES", "Kyoto"),
    ("Osaka University", "HES", "Suita"), ("Tohoku University", "HES", "Sendai"),
    ("Nagoya University", "HES", "Nagoya"), ("Kyushu University", "HES", "Fukuoka"),
    ("Hokkaido University", "HES", "Sapporo"), ("Keio University", "HES", "Tokyo"),
    ("Waseda University", "HES", "Tokyo"), ("Institute of Science Tokyo", "HES", "Tokyo"),
    ("University of Tsukuba", "HES", "Tsukuba"), ("Kobe University", "HES", "Kobe"),
    ("Hiroshima University", "HES", "Higashihiroshima"), ("Chiba University", "HES", "Chiba"),
    ("Okayama University", "HES", "Okayama"), ("Kanazawa University", "HES", "Kanazawa"),
    ("Ritsumeikan University", "HES", "Kyoto"), ("Doshisha University", "HES", "Kyoto"),
    ("Tokyo University of Science", "HES", "Tokyo"), ("Nara Institute of S&T", "HES", "Ikoma"),
    ("Japan Advanced Institute of S&T", "HES", "Nomi"), ("Kumamoto University", "HES", "Kumamoto"),
    ("Niigata University", "HES", "Niigata"), ("Shinshu University", "HES", "Matsumoto"),
    ("Yokohama National University", "HES", "Yokohama"), ("Gifu University", "HES", "Gifu"),
    ("Okinawa Institute of S&T", "HES", "Onna"), ("Tokai University", "HES", "Hiratsuka"),
    ("RIKEN", "REC", "Wako"), ("AIST", "REC", "Tsukuba"), ("NICT", "REC", "Koganei"),
    ("JAXA", "REC", "Chofu"), ("NIMS", "REC", "Tsukuba"), ("JAMSTEC", "REC", "Yokosuka"),
    ("QST", "REC", "Chiba"), ("NARO", "REC", "Tsukuba"), ("NIES", "REC", "Tsukuba"),
    ("KEK", "REC", "Tsukuba"), ("NII", "REC", "Tokyo"), ("CRIEPI", "REC", "Tokyo"),
    ("JAEA", "REC", "Tokai"), ("NIBIOHN", "REC", "Ibaraki"), ("JST", "PUB", "Kawaguchi"),
    ("NEDO", "PUB", "Kawasaki"), ("AMED", "PUB", "Tokyo"), ("Tokyo Metropolitan Govt", "PUB",
                                                            "Tokyo"),
    ("Kobe City", "PUB", "Kobe"), ("Japan Weather Association", "OTH", "Tokyo"),
    ("Japan Automobile Research Institute", "OTH", "Tsukuba"),
    ("Japan Electrical Safety Centre", "OTH", "Tokyo"),
]
_CO_PREFIX = ["Kanto", "Nishiki", "Sakura", "Hikari", "Tsubasa", "Minato", "Aozora", "Fuji",
              "Kizuna", "Mirai", "Yamato", "Shinsei", "Asahi", "Kaze", "Hoshi", "Midori",
              "Tsuru", "Umi", "Kawa", "Mori", "Sora", "Taiyo", "Kiri", "Hana", "Ishi",
              "Kumo", "Yuki", "Nami", "Take", "Matsu", "Ume", "Kaede", "Sango", "Suisei",
              "Tenkai", "Hokuto", "Seiryu", "Genki", "Shiro", "Kurenai"]
_CO_SUFFIX = ["Electronics Co., Ltd.", "Photonics K.K.", "Materials Inc.", "Robotics Co., Ltd.",
              "Bio Inc.", "Energy Systems Co.", "Networks K.K.", "Motors Corp.",
              "Precision Co., Ltd.", "Semiconductor Inc."]
_WORDS = ["SMART", "GREEN", "NANO", "QUANT", "BIO", "AERO", "CIRC", "HYDRO", "DIGI", "NEURO",
          "OCEAN", "SOLAR", "CYBER", "FUSION", "MOBI", "AGRI", "ROBO", "CLIMA", "PHOTON", "GENE"]
_TITLE = ["Advanced", "Sustainable", "Resilient", "Integrated", "Next-generation", "Trustworthy",
          "Circular", "Low-carbon", "Open", "Autonomous"]
_TOPIC = ["5G/6G networks", "hydrogen storage", "battery materials", "precision medicine",
          "earthquake early warning", "quantum sensing", "smart manufacturing", "food safety",
          "space weather", "offshore wind", "ageing societies", "plastic recycling",
          "brain imaging", "photonic integrated circuits", "connected vehicles", "fusion plasmas"]
H2020_PARTS = {"H2020-EU.2.1.1.": 26, "H2020-EU.1.3.": 22, "H2020-EU.3.1.": 12,
               "H2020-EU.1.1.": 6, "H2020-EU.3.4.": 7, "H2020-EU.3.3.": 6, "H2020-EU.3.5.": 5,
               "H2020-EU.2.1.6.": 4, "H2020-EU.2.1.3.": 3, "H2020-EU.2.1.2.": 3,
               "H2020-EU.3.2.": 3, "H2020-EU.3.7.": 2, "H2020-EU.1.4.": 3, "H2020-EU.1.2.": 2,
               "H2020-EU.3.6.": 2, "H2020-EU.2.1.5.": 2}
HE_PARTS = {"HORIZON.2.4": 24, "HORIZON.1.2": 22, "HORIZON.2.1": 14, "HORIZON.2.5": 14,
            "HORIZON.1.1": 6, "HORIZON.2.6": 7, "HORIZON.2.3": 3, "HORIZON.2.2": 4,
            "HORIZON.1.3": 3, "HORIZON.3.1": 2, "HORIZON.3.2": 1}


def _research_rows(rng: np.random.Generator, until: dt.date) -> tuple[list[tuple], list[tuple]]:
    companies = [(f"{p} {s}", "PRC", "Tokyo") for p, s in
                 zip(_CO_PREFIX, _CO_SUFFIX * 4, strict=False)]
    orgs = [(f"9{990000 + i:06d}", *o) for i, o in enumerate(JP_ORGS + companies)]
    org_w = np.array([3.0 if o[2] in ("HES", "REC") else 1.0 for o in orgs])
    org_w[:6] = 8  # the big universities take part most
    org_w[28:32] = 7  # and the big research organisations
    projects: list[tuple] = []
    parts: list[tuple] = []
    used_acr: set[str] = set()

    def add_projects(fw: str, n_proj: int, n_part: int, part_w: dict[str, float],
                     years: tuple[int, int], id0: int, n_orgs: int | None,
                     funded_total: float) -> None:
        pp = _choice(rng, part_w, n_proj)
        pool_idx = np.arange(len(orgs))
        if n_orgs is not None:
            pool_idx = rng.choice(len(orgs), size=n_orgs, replace=False, p=org_w / org_w.sum())
        # every project has one Japanese participation; the rest are spread over projects
        proj_of = np.concatenate([np.arange(n_proj),
                                  rng.choice(n_proj, size=n_part - n_proj)])
        w = org_w[pool_idx] / org_w[pool_idx].sum()
        org_of = rng.choice(pool_idx, size=n_part, p=w)
        if n_orgs is not None:  # make sure every organisation of the pool appears
            org_of[: len(pool_idx)] = rng.permutation(pool_idx)
        starts = []
        for j in range(n_proj):
            y = int(rng.integers(years[0], years[1] + 1))
            start = dt.date(y, int(rng.integers(1, 13)), 1)
            start = min(start, until)
            starts.append(start)
            dur = int(rng.choice([24, 36, 36, 48, 48, 60]))
            end = dt.date(start.year + (start.month - 1 + dur) // 12,
                          (start.month - 1 + dur) % 12 + 1, 1) - dt.timedelta(days=1)
            while True:
                acr = f"{rng.choice(_WORDS)}{rng.choice(_WORDS)}-{rng.integers(1, 99)}"
                if acr not in used_acr:
                    used_acr.add(acr)
                    break
            title = f"{rng.choice(_TITLE)} {rng.choice(_TOPIC)} in Europe and Japan"
            cost = float(np.round(rng.uniform(1.5e6, 12e6), 2))
            legal = str(pp[j]).rstrip(".") if fw == "HORIZON" else str(pp[j])
            legal_full = legal + (f".{rng.integers(1, 4)}" if fw == "HORIZON" else "")
            projects.append((id0 + j * 37, acr, title, fw, legal_full, str(pp[j]),
                             start.isoformat(), end.isoformat(), cost,
                             float(np.round(cost * rng.uniform(0.7, 1.0), 2)),
                             vocab.PROGRAMME_PART_SECTOR[str(pp[j])],
                             dt.datetime(until.year, until.month, 1, 9, 30).isoformat(" "),
                             True))
        roles = np.where(rng.random(n_part) < 0.04, "coordinator",
                         np.where(rng.random(n_part) < 0.55, "participant", "partner"))
        funded = rng.random(n_part) < (0.04 if fw == "HORIZON" else 0.12)
        amounts = np.where(funded, rng.uniform(0.5, 1.5, n_part), 0.0)
        if amounts.sum() > 0:
            amounts = amounts / amounts.sum() * funded_total
        seen: set[tuple] = set()
        for k in range(n_part):
            pid = id0 + int(proj_of[k]) * 37
            oi = int(org_of[k])
            while (pid, oi) in seen:  # an organisation takes part once per project
                oi = int(rng.choice(pool_idx))
            seen.add((pid, oi))
            o = orgs[oi]
            role = str(roles[k])
            org_type = vocab.ACTIVITY_TYPE_ORG[o[2]]
            sme = o[2] == "PRC" and "Co., Ltd." in o[1]
            if o[2] == "PRC":
                org_type = "sme" if sme else "large"
            parts.append((pid, o[0], o[1], "JP", o[2], org_type, role, sme,
                          float(np.round(amounts[k], 2)), o[3], True))

    # Project ids far above CORDIS's (9 digits), so demo projects never take a real id.
    add_projects("H2020", 176, 219, H2020_PARTS, (2015, 2021), 9_000_640_001, None, 4.2e6)
    he_last = max(2022, min(until.year, 2026))
    add_projects("HORIZON", 128, 169, HE_PARTS, (2022, he_last), 9_101_040_001, 84, 1.25e6)
    return projects, parts


# ---- EPA utilisation ------------------------------------------------------------------------
EPA_COLUMNS = ("year", "direction", "member_state", "hs_section", "sector_code", "eligible_eur",
               "preferential_eur", "is_demo")
PUR_TARGET = {
    "EU_JP": {2019: 0.535, 2020: 0.633, 2021: 0.700, 2022: 0.712, 2023: 0.724, 2024: 0.731,
              2025: 0.738, 2026: 0.744},
    "JP_EU": {2019: 0.521, 2020: 0.590, 2021: 0.634, 2022: 0.658, 2023: 0.671, 2024: 0.680,
              2025: 0.689, 2026: 0.695},
}
SECTION_TRADE = {  # share of eligible trade by HS section, (EU->JP, JP->EU)
    "I": (5, 0.3), "II": (2, 0.4), "III": (1, 0.1), "IV": (9, 0.8), "V": (1, 0.5),
    "VI": (20, 11), "VII": (3, 6), "VIII": (4, 0.3), "IX": (2, 0.1), "X": (1, 0.5),
    "XI": (3, 1.2), "XII": (2, 0.2), "XIII": (1.5, 1.5), "XIV": (1, 0.5), "XV": (3, 4),
    "XVI": (18, 34), "XVII": (12, 26), "XVIII": (8, 9), "XIX": (0.2, 0.05),
    "XX": (2.3, 1.5), "XXI": (1, 0.1),
}
JP_IMPORTERS = {"DE": 26, "NL": 20, "BE": 10, "FR": 8, "IT": 6, "ES": 4, "PL": 4, "CZ": 3,
                "HU": 2.5, "SE": 2, "AT": 2, "IE": 1.5, "DK": 1, "FI": 1, "SK": 1, "PT": 1,
                "RO": 1, "GR": 0.7, "SI": 0.5, "BG": 0.4, "HR": 0.4, "LT": 0.3, "LU": 0.3,
                "LV": 0.2, "EE": 0.2, "CY": 0.1, "MT": 0.1}
EU_EXPORTERS = {"DE": 24, "FR": 14, "IT": 13, "NL": 6, "BE": 7, "ES": 5, "IE": 6, "DK": 3,
                "AT": 3, "SE": 3, "PL": 2, "FI": 2, "CZ": 1.5, "HU": 1.2, "PT": 1, "GR": 0.8,
                "RO": 0.6, "SK": 0.4, "SI": 0.5, "BG": 0.3, "HR": 0.2, "LT": 0.4, "LU": 0.2,
                "LV": 0.1, "EE": 0.1, "CY": 0.1, "MT": 0.2}


def _epa_rows(rng: np.random.Generator, until: dt.date) -> list[tuple]:
    rows: list[tuple] = []
    # trade statistics come with a lag: the latest full year is the one before `until`
    for year in range(2019, until.year):
        for d_i, direction in enumerate(("EU_JP", "JP_EU")):
            total = (44e9 if direction == "EU_JP" else 47e9) * (1 + 0.03 * (year - 2019))
            if year == 2020:
                total *= 0.88  # the pandemic year
            ms_w = EU_EXPORTERS if direction == "EU_JP" else JP_IMPORTERS
            ms_keys, ms_p = _p(ms_w)
            sec_keys = list(SECTION_TRADE)
            sec_p = np.array([SECTION_TRADE[s][d_i] for s in sec_keys])
            sec_p = sec_p / sec_p.sum()
            share = np.outer(ms_p, sec_p) * rng.lognormal(0, 0.35, (len(ms_keys), len(sec_keys)))
            eligible = share / share.sum() * total
            sec_bias = rng.normal(0, 0.08, len(sec_keys))
            ms_bias = rng.normal(0, 0.06, len(ms_keys))
            rate = np.clip(PUR_TARGET[direction][year] + ms_bias[:, None] + sec_bias[None, :]
                           + rng.normal(0, 0.04, eligible.shape), 0.05, 0.98)
            pref = eligible * rate
            for _ in range(10):  # hit the year's published rate exactly, without exceeding 100%
                pref = np.minimum(pref * PUR_TARGET[direction][year] * eligible.sum()
                                  / pref.sum(), eligible)
            for i, ms in enumerate(ms_keys):
                for j, sec in enumerate(sec_keys):
                    rows.append((year, direction, ms, sec, vocab.HS_SECTION_SECTOR[sec],
                                 float(np.round(eligible[i, j], 2)),
                                 float(np.round(pref[i, j], 2)), True))
    return rows


# ---- Loading --------------------------------------------------------------------------------
def has_any_data(conn: Connection) -> bool:
    """True when any fact table holds a row (demo or real)."""
    return any(conn.execute(select(func.count()).select_from(m)).scalar_one() > 0
               for m in FACT_TABLES)


def clear_demo(conn: Connection) -> None:
    """Delete every demo row, in the caller's transaction."""
    for m in (ResearchParticipation, ResearchProject, TechDeal, TechOffer, HelpdeskEnquiry,
              ProgrammeApplication, EpaUtilisation):
        conn.execute(delete(m).where(m.is_demo.is_(True)))
    conn.execute(delete(Meta).where(Meta.key == "demo_loaded"))


def load_demo(engine: Engine, *, seed: int = DEFAULT_SEED, until: dt.date | None = None,
              enquiries: int | None = None, log=print,  # noqa: ANN001
              actor: Actor | None = None) -> dict[str, int]:
    """Replace the demo rows with freshly generated ones, in one transaction; return counts
    (the import log and the audit trail name `actor`, by default the system)."""
    until = until or dt.date.today()
    if not schema_exists(engine):
        upgrade_schema(engine)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    from sqlalchemy.orm import Session

    with engine.begin() as conn:
        clear_demo(conn)
        tables = Base.metadata.tables
        rng = np.random.default_rng(seed)
        counts["programme_application"] = bulk_insert(
            conn, tables["programme_application"], PROGRAMME_COLUMNS,
            _programme_rows(np.random.default_rng(seed + 1), until))
        counts["helpdesk_enquiry"] = bulk_insert(
            conn, tables["helpdesk_enquiry"], ENQUIRY_COLUMNS,
            _enquiry_rows(np.random.default_rng(seed + 2), until, enquiries))
        log(f"  {counts['helpdesk_enquiry']:,} enquiries in {time.perf_counter() - t0:.1f} s")
        offers, deals = _tech_rows(np.random.default_rng(seed + 3), until)
        counts["tech_offer"] = bulk_insert(conn, tables["tech_offer"], OFFER_COLUMNS, offers)
        counts["tech_deal"] = bulk_insert(conn, tables["tech_deal"], DEAL_COLUMNS, deals)
        projects, parts = _research_rows(np.random.default_rng(seed + 4), until)
        counts["research_project"] = bulk_insert(conn, tables["research_project"],
                                                 PROJECT_COLUMNS, projects)
        counts["research_participation"] = bulk_insert(
            conn, tables["research_participation"], PARTICIPATION_COLUMNS, parts)
        # Real EPA rows (imported) win over demo rows with the same natural key.
        real = set(conn.execute(select(EpaUtilisation.year, EpaUtilisation.direction,
                                       EpaUtilisation.member_state, EpaUtilisation.hs_section)
                                .where(EpaUtilisation.is_demo.is_(False))).all())
        epa = [r for r in _epa_rows(np.random.default_rng(seed + 5), until)
               if tuple(r[:4]) not in real]
        counts["epa_utilisation"] = bulk_insert(conn, tables["epa_utilisation"], EPA_COLUMNS,
                                                epa)
        del rng
        with Session(bind=conn) as s:
            set_meta(s, "demo_loaded", "1")
            set_meta(s, "demo_until", until.isoformat())
            set_meta(s, "demo_seed", str(seed))
            bump_data_version(s)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            who = actor or Actor.system()
            row = ImportLog(file_name="(demo data generator)", sha256="-", family="all",
                            rows_read=sum(counts.values()), rows_inserted=sum(counts.values()),
                            rows_updated=0, rows_refused=0, started_at=now, finished_at=now,
                            outcome="demo", message=f"seed {seed}, until {until.isoformat()}",
                            actor=who.name[:120])
            s.add(row)
            s.flush()
            audit.add(s, who, "demo_loaded", target="demo data", import_log_id=row.id,
                      detail={"seed": seed, "until": until.isoformat(),
                              "rows": sum(counts.values())})
        _after_load(conn)
    from data_access import summaries

    summaries.tidy(engine)  # (after the commit)
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def _after_load(conn: Connection, *, before: Status | None = None,
                years: Iterable[int] | None = None) -> None:
    """Hook for work that must follow any data change (summary tables), same transaction.

    With `years` (the years of receipt of the help-desk enquiries the change wrote; empty
    for other data) and `before` (`summaries.status` read before the change), only those
    years are recounted; otherwise every summary is rebuilt."""
    from data_access import summaries

    if years is None:
        summaries.rebuild(conn)
    else:
        summaries.refresh(conn, before, years)


def main(argv: list[str] | None = None) -> int:
    """Command line: generate demo data into DATABASE_URL (or --database-url)."""
    from data_access.db import make_engine
    from data_access.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                    or Settings().DATABASE_URL)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--until", type=dt.date.fromisoformat, default=None,
                    help="last day of the demo data (default: today)")
    ap.add_argument("--enquiries", type=int, default=None,
                    help="total help-desk enquiries (e.g. 1000000 for benchmarks)")
    args = ap.parse_args(argv)
    engine = make_engine(args.database_url)
    upgrade_schema(engine)
    counts = load_demo(engine, seed=args.seed, until=args.until, enquiries=args.enquiries,
                       actor=Actor.cli())
    for k, v in counts.items():
        print(f"{k:>24}: {v:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
