"""The one translation function every user-visible string goes through.

Keys are the English strings themselves, so an untranslated string falls back to English.
"""

from __future__ import annotations

import json
from pathlib import Path

LANGS = ("en", "ja")

JA: dict[str, str] = {
    "EU–Japan Centre dashboard": "日欧産業協力センター ダッシュボード",
    "Overview": "概要",
    "Programmes": "研修プログラム",
    "Help desks": "ヘルプデスク",
    "Technology transfer": "技術移転",
    "Research participation": "研究参加",
    "EPA utilisation": "EPA利用",
    "Data": "データ",
    "Demo data": "デモデータ",
    "Synthetic demo data is loaded: figures are realistic in size but not real.":
        "合成デモデータを表示中：規模は現実的ですが実データではありません。",
    "From": "開始年",
    "To": "終了年",
    "Sectors": "分野",
    "All sectors": "全分野",
    "Reset filters": "フィルターをリセット",
    "No data": "データなし",
    "No data for these filters": "この条件に該当するデータはありません",
    "vs": "前年比",
    "Applications received": "応募数",
    "Selection rate": "採用率",
    "Enquiries received": "問い合わせ件数",
    "Median days to answer": "回答までの日数（中央値）",
    "Technology deals signed": "技術移転契約の締結数",
    "Japanese Horizon participations": "ホライズンへの日本の参加件数",
    "EPA utilisation EU → JP": "EPA利用率 EU→日本",
    "EPA utilisation JP → EU": "EPA利用率 日本→EU",
    "days": "日",
    "pp": "ポイント",
    "latest available": "最新",
    "to date": "年初来",
    "same period": "同期間",
    "Key figures for": "主要指標",
    "all programmes": "全プログラム",
    "all help desks": "全ヘルプデスク",
    "Language": "言語",
    "Year range": "対象期間",
    "Data as of": "データ基準日",
    "Source": "出典",
    "EU–Japan Centre for Industrial Cooperation": "日欧産業協力センター",
    "no change": "変化なし",
    "Trend over the selected years": "選択期間の推移",
    "previous year": "前年",
    "Show the numbers": "数値を表示",
    "Remove this filter": "この絞り込みを解除",
    "data as of": "データ基準日",
    "Year": "年",
    "EU–Japan Centre": "日欧産業協力センター",
    "Tech transfer": "技術移転",
    "Showing the first {n:,} of {total:,} rows; the downloads hold them all.":
        "最初の{n:,}行を表示（全{total:,}行）。全データはダウンロードできます。",
    "Research": "研究参加",
    "About": "データについて",
    "About the data": "データについて",
    "{y} to {day} vs same period {p}": "{y}年 {day}まで（{p}年同期比）",
    "{y} (latest available) vs {p}": "{y}年・最新（{p}年比）",
    "{y} vs {p}": "{y}年（{p}年比）",
    "dashboard": "ダッシュボード",
}


# Each area of the app keeps its own Japanese strings in components/locales/ja_*.json
# ({"English": "日本語"}), merged here, so parallel work does not edit one file.
for _f in sorted((Path(__file__).parent / "locales").glob("ja_*.json")):
    JA.update(json.loads(_f.read_text(encoding="utf-8")))


def t(text: str, lang: str | None = "en", **fmt: object) -> str:
    """Translate an English UI string into `lang` (English if no translation), then format."""
    out = JA.get(text, text) if lang == "ja" else text
    return out.format(**fmt) if fmt else out


def norm_lang(value: object) -> str:
    """Return a supported language code ('en' by default)."""
    return value if value in LANGS else "en"  # type: ignore[return-value]
