"""Reviewer-facing names of inputs and sources, for figures, tables and reports.

An evidence value may carry its own ``label`` ("PFS HR, Atezo–Bev vs sorafenib"); the others
are named from their key by the wording of :data:`WORDS` ("os_median_atezo_bev" → "OS
median, Atezo–Bev"), and a source from its key ("imbrave150_cheng_2022" → "IMbrave150,
Cheng 2022"). Keys stay in tables written for machines (CSV); these names are for
readers, and never hold an underscore.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

#: Words of keys as a reader writes them (several words of a key at once, longest first).
WORDS = {
    "log_hazard_ratio": "log HR", "hazard_ratio": "HR", "odds_ratio": "OR", "atezo_bev": "Atezo–Bev",
    "grade_3_4": "grade 3–4", "grade_3_plus": "grade ≥3", "pre_progression": "pre-progression",
    "post_progression": "post-progression", "progression_free": "progression-free", "best_supportive_care": "BSC",
    "second_line": "second-line", "first_line": "first-line", "third_line": "third-line",
    "pfs": "PFS", "os": "OS", "ttp": "TTP", "sd": "SD", "se": "SE", "ae": "AE", "teae": "TEAE", "tace": "TACE",
    "ihlrt": "IHLRT", "tare": "TARE", "sirt": "SIRT", "rt": "RT", "iv": "IV", "ct": "CT", "mri": "MRI", "us": "US",
    "uk": "UK", "nhs": "NHS", "usd": "USD", "gbp": "GBP", "eur": "EUR", "nice": "NICE", "qaly": "QALY", "mvi": "MVI",
    "ecog": "ECOG", "bclc": "BCLC", "afp": "AFP", "ast": "AST", "alt": "ALT", "hcc": "HCC", "nma": "NMA",
    "durva_treme": "Durva–Treme", "stride": "STRIDE", "meanlog": "meanlog", "sdlog": "sdlog", "vs": "vs",
}
#: Trial and organisation names in source keys, as they are written.
NAMES = {
    "imbrave150": "IMbrave150", "reflect": "REFLECT", "resorce": "RESORCE", "celestial": "CELESTIAL",
    "reach2": "REACH-2", "sharp": "SHARP", "start": "START", "himalaya": "HIMALAYA", "biocentury": "BioCentury",
    "fiercepharma": "FiercePharma", "nrb": "NRB", "pmc": "PMC", "nice": "NICE", "uk": "UK", "us": "US",
    "pmg36": "PMG36", "nhs": "NHS", "mvi": "MVI",
}
#: Authors whose hyphenated name a source key writes as two words.
HYPHENATED = {("abou", "alfa"): "Abou-Alfa"}
_UNIT_WORDS = {"kg", "mg", "days", "weeks", "months", "years"}
_YEAR = re.compile(r"^(19|20)\d\d$")
_TA = re.compile(r"^ta(\d+)$")
_PMC = re.compile(r"^pmc(\d+)$")


def words(key: str, unit: str | None = None) -> str:
    """A key as words: ``"pfs_hazard_ratio_atezo_bev_vs_sorafenib"`` → ``"PFS HR Atezo–Bev vs
    sorafenib"``; a last word that repeats ``unit`` is left to the unit."""
    parts = key.lower().split("_")
    if unit and len(parts) > 1 and parts[-1] in _UNIT_WORDS and parts[-1] == unit:
        parts = parts[:-1]
    out, i = [], 0
    phrases = sorted(((k.split("_"), v) for k, v in WORDS.items()), key=lambda item: -len(item[0]))
    while i < len(parts):
        for phrase, text in phrases:
            if parts[i:i + len(phrase)] == phrase:
                out.append(text)
                i += len(phrase)
                break
        else:
            out.append(parts[i])
            i += 1
    return " ".join(out)


def sentence(text: str) -> str:
    """The first letter in capitals, unless the first word is already written as it should be."""
    return text[:1].upper() + text[1:] if text and text[:1].islower() else text


def analysis_label(name: str, description: str | None = None) -> str:
    """An analysis as a reader names it: its description, else its name in words
    (``"hcc_base_case"`` → ``"HCC base case"``)."""
    return description or sentence(words(name))


def source_label(source: str, populations: Iterable[str] = ()) -> str:
    """A source key as a reader names it: ``"imbrave150_cheng_2022"`` → ``"IMbrave150, Cheng
    2022"``, ``"assumptions"`` → ``"assumption"``, ``"nice_ta474_sorafenib"`` → ``"NICE TA474"``,
    ``"fit_best_supportive_care_os"`` → ``"fit to patient-level data: BSC OS"``, and a fit of
    one of ``populations`` (the analysis's), named after it, ``"fit_imbrave150_sorafenib_pfs"``
    → ``"fit to patient-level data: sorafenib PFS, IMbrave150"``."""
    if source == "assumptions":
        return "assumption"
    parts = source.lower().split("_")
    if parts[0] == "fit" and len(parts) > 1:
        curve = "_".join(parts[1:])
        for population in sorted(populations, key=len, reverse=True):
            if curve.startswith(f"{population.lower()}_"):
                return (f"fit to patient-level data: {words(curve[len(population) + 1:])}, "
                        f"{NAMES.get(population.lower(), population)}")
        return f"fit to patient-level data: {words(curve)}"
    if parts[0] == "nma":
        model = parts[-1] if parts[-1] in ("fixed", "random") else None
        what = words("_".join(parts[1:-1] if model else parts[1:]))
        return f"network meta-analysis: {what}" + (f", {model} effects" if model else "")
    years = [i for i, part in enumerate(parts) if _YEAR.match(part)]
    if years:
        year = years[0]
        before = parts[:year]
        if tuple(before[-2:]) in HYPHENATED:  # "abou_alfa": one author
            before = [*before[:-2], HYPHENATED[tuple(before[-2:])]]
        author = _name(before[-1]) if before else ""
        study = ", ".join(_name(p) for p in before[:-1])
        cited = f"{author} {parts[year]}".strip()
        return f"{study}, {cited}" if study else cited  # what follows the year (a price, a topic) is the value's
    return " ".join(_name(p) for p in parts)


def _name(part: str) -> str:
    if part in NAMES:
        return NAMES[part]
    if _TA.match(part):
        return f"TA{_TA.match(part).group(1)}"
    if _PMC.match(part):
        return f"PMC{_PMC.match(part).group(1)}"
    return part if any(c.isdigit() for c in part) or not part.islower() else part.capitalize()


def input_label(reference: str, unit_text: str | None, label: str | None = None,
                populations: Iterable[str] = ()) -> str:
    """The reviewer-facing name of an evidence reference ``source.value``: its own ``label``
    if it has one, else its key in words; then its unit and its source (named as
    :func:`source_label` names it among ``populations``)."""
    source, _, name = reference.partition(".")
    unit_key = unit_text if unit_text in _UNIT_WORDS else None
    text = label or sentence(words(name, unit_key))
    return f"{text}{', ' + unit_text if unit_text else ''} ({source_label(source, populations)})"
