"""Money as data: currencies are ISO 4217 codes.

A currency is three upper-case letters that ISO 4217 lists as a currency (or a fund or
precious-metal code), e.g. ``GBP``, ``USD``, ``CAD``, ``EUR``, ``AUD`` or ``JPY``. Every
money value of the evidence library names one, and every perspective names the one it
counts in; loading checks that each price a perspective uses is in its currency (no
conversion is applied anywhere: a price in another currency is an error, not a rate).
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

#: Alphabetic codes of ISO 4217's list one (currencies and funds) and its codes for precious
#: metals, special drawing rights and testing, as amended to 2025 (ZWG 2024, XCG 2025; HRK,
#: SLL and VEF withdrawn or superseded are not accepted where ISO has withdrawn them).
ISO_4217 = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG",
    "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX",
    "YER", "ZAR", "ZMW", "ZWG", "ZWL",
})

_CODE = re.compile(r"^[A-Z]{3}$")


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 alphabetic code, else an error saying why not."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValueError(f"currency {code!r}: an ISO 4217 code is three upper-case letters (GBP, USD, CAD, EUR ...)")
    if code not in ISO_4217:
        raise ValueError(f"currency {code!r}: not an ISO 4217 currency code (e.g. GBP, USD, CAD, EUR, AUD, JPY)")
    return code


#: A field holding a currency: validated by :func:`check_currency`.
Currency = Annotated[str, AfterValidator(check_currency)]

#: Symbols of the currencies a reader knows by them; others are written by their code.
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CAD": "C$", "AUD": "A$"}


def amount(value: float, currency: str) -> str:
    """An amount as a reader writes it, in whole units: ``$150,000``, ``£20,000``,
    ``−$5,000``; ``CHF 50,000`` for a currency without a symbol, ``50,000`` without one."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} " if currency else "")
    return f"{'−' if value < 0 else ''}{symbol}{abs(value):,.0f}"
