"""PII scan: columns that look like personal data, with the share of sampled values that match.

Detectors (on up to `SAMPLE` non-missing values per column, evenly spaced):
  email        e-mail addresses anywhere in the value
  phone        phone numbers: the whole value, 8-15 digits with a leading +/00 or grouped by separators (dates,
               times and plain numbers excluded), or a +-prefixed number inside text
  card         payment card numbers: 13-19 digits passing the Luhn checksum (and >= 80% of digit runs of that
               length pass, which random identifiers do not: about 10% of them pass by chance)
  iban         IBANs passing the ISO 13616 mod-97 check (same 80% rule)
  ip           IPv4 addresses anywhere in the value, IPv6 addresses as the whole value
  national_id  US social security numbers (AAA-GG-SSSS) and UK National Insurance numbers
  name         the column's name says personal data (name, email, phone, address, ssn, date of birth, ...) and
               it holds at least 10 distinct values
A column is flagged when the share of matching values reaches `data.pii.min_share`. Matched values are never
shown in full: `mask` keeps the shape and a character or two.

In a run (`stage_pii`, right after the contract) `data.pii.action` decides: `fail` (the default: the recipe must
decide), `drop` (the columns become `data.drop`), `hash` (values replaced by a BLAKE2b digest, the same at
predict; a pseudonym, not encryption: digests of small domains such as phone numbers can be found by guessing),
or `allow`. Columns in `data.pii.allow` are never flagged; findings in `data.drop` columns are reported but do not
fail the run, since those columns never reach the model or its artifacts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError
from mlengine.stages import stage

log = logging.getLogger("mlengine")

SAMPLE = 5000
MIN_DISTINCT_FOR_NAME = 10
CHECKSUM_RATIO = 0.8

KIND_LABEL = {"email": "e-mail addresses", "phone": "phone numbers", "card": "payment card numbers",
              "iban": "IBANs", "ip": "IP addresses", "national_id": "national ID numbers",
              "name": "personal data by column name"}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                   r"(?![\d.])")
_DIGIT_RUN = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Z0-9])")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)")
_NINO = re.compile(r"(?<![A-Z])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?"
                   r"[A-D](?![A-Z0-9])")
_PHONE_WHOLE = re.compile(r"(?:\+|00)?\(?\d[\d\s().-]{6,20}\d")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?!\d)")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(\s|$)|^\d{1,2}:\d{2}")

# column-name tokens that say "personal data" on their own, and the ones that need a person qualifier
_NAME_TOKENS = {"email", "emailaddress", "phone", "phonenumber", "telephone", "tel", "mobile", "cellphone", "fax",
                "address", "streetaddress", "street", "postcode", "zipcode", "zip", "postalcode", "ssn",
                "passport", "nino", "iban", "creditcard", "cardnumber", "ccnumber", "dob", "birthdate",
                "dateofbirth", "ipaddress", "surname", "firstname", "lastname", "fullname", "forename",
                "givenname", "familyname", "username", "maidenname", "middlename"}
_PERSON = {"first", "last", "full", "given", "family", "sur", "user", "customer", "client", "patient", "person",
           "contact", "maiden", "middle", "employee", "owner", "holder", "account", "passenger", "member"}


@dataclass
class Finding:
    """One column that looks like personal data."""

    column: str
    kind: str
    share: float  # of sampled non-missing values (1.0 for a name match: the whole column)
    matched: int
    sampled: int
    examples: list[str]  # masked
    evidence: str

    def describe(self) -> str:
        if self.kind == "name":
            return f"{self.column!r} ({self.evidence})"
        ex = f", e.g. {', '.join(self.examples)}" if self.examples else ""
        return f"{self.column!r} ({KIND_LABEL[self.kind]} in {self.share:.0%} of {self.sampled} sampled values{ex})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------- detectors ---
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
    except ValueError:
        return False


def _card_hits(v: str) -> tuple[bool, bool]:
    """(has a digit run of card length, has one that passes Luhn)."""
    runs = [re.sub(r"\D", "", m) for m in _DIGIT_RUN.findall(v)]
    runs = [r for r in runs if 13 <= len(r) <= 19 and len(set(r)) > 1]
    return bool(runs), any(luhn_ok(r) for r in runs)


def _iban_hits(v: str) -> tuple[bool, bool]:
    found = _IBAN.findall(v.upper())
    return bool(found), any(iban_ok(f) for f in found)


def _is_number(v: str) -> bool:
    try:
        float(v.replace(",", ""))
        return True
    except ValueError:
        return False


def _phone(v: str) -> bool:
    if _IPV4.fullmatch(v) or _SSN.fullmatch(v):
        return False
    if _PHONE_IN_TEXT.search(v) and not _DATE_LIKE.match(v):
        return True
    if not _PHONE_WHOLE.fullmatch(v) or _DATE_LIKE.match(v) or _is_number(v):
        return False
    digits = sum(ch.isdigit() for ch in v)
    groups = len(re.findall(r"\d+", v))
    return 8 <= digits <= 15 and (v.startswith(("+", "00", "(")) or groups >= 3)


def _ip(v: str) -> bool:
    if _IPV4.search(v):
        return True
    if ":" in v and v.count(":") >= 2 and re.fullmatch(r"[0-9A-Fa-f:.]+", v):
        try:
            ipaddress.IPv6Address(v)
            return True
        except ValueError:
            return False
    return False


_SIMPLE: dict[str, Callable[[str], bool]] = {
    "email": lambda v: _EMAIL.search(v) is not None,
    "phone": _phone,
    "ip": _ip,
    "national_id": lambda v: _SSN.search(v) is not None or _NINO.search(v.upper()) is not None,
}
_CHECKSUM: dict[str, Callable[[str], tuple[bool, bool]]] = {"card": _card_hits, "iban": _iban_hits}


def name_tokens(column: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(column))
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def name_says_personal(column: str) -> str | None:
    """The reason the column's name suggests personal data, or None."""
    tokens = name_tokens(column)
    joined = {"".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, min(len(tokens), i + 3) + 1)}
    hit = sorted(joined & _NAME_TOKENS)
    if hit:
        return f"column name contains {hit[0]!r}"
    if "name" in tokens and (len(tokens) == 1 or set(tokens) & _PERSON):
        return "column name says it holds people's names"
    if tokens in (["e", "mail"], ["mail"]):
        return "column name says e-mail"
    return None


# ------------------------------------------------------------------------------------------- masking ---
def mask(value: str, kind: str = "") -> str:
    """A value with most characters hidden: shape kept, never more than 3 characters shown."""
    v = str(value).strip()
    if kind == "email" and (m := _EMAIL.search(v)):
        local, _, domain = m.group(0).partition("@")
        tld = domain.rsplit(".", 1)[-1]
        return f"{local[0]}***@{domain[0]}***.{tld}"
    if kind in ("card", "iban", "phone", "national_id"):
        digits_shown = re.sub(r"\s", "", v)[-2:]
        return "*" * min(8, max(3, len(v) - 2)) + digits_shown
    if kind == "ip":
        return re.sub(r"[0-9A-Fa-f]+", "*", v, count=max(1, v.count(".") + v.count(":")))
    if len(v) <= 3:
        return "*" * len(v)
    return v[0] + "*" * min(6, len(v) - 2) + v[-1]


# ---------------------------------------------------------------------------------------------- scan ---
def _sample(s: pd.Series) -> pd.Series:
    s = s.dropna()
    if len(s) > SAMPLE:
        s = s.iloc[np.linspace(0, len(s) - 1, SAMPLE).astype(int)]
    return s


def _as_text(s: pd.Series) -> pd.Series | None:
    """Values to scan as text: strings as they are; large integers (card numbers stored as numbers) as digits."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return None
    if pd.api.types.is_integer_dtype(s):
        return s.astype(str) if len(s) and s.abs().max() >= 10**12 else None
    if pd.api.types.is_numeric_dtype(s):
        return None
    return s.astype(str).str.strip()


def scan_column(name: str, s: pd.Series, min_share: float) -> list[Finding]:
    out: list[Finding] = []
    values = _sample(s)
    text = _as_text(values)
    n = len(values)
    if text is not None and n:
        digits = text.str.count(r"\d").to_numpy()
        worth = {"email": text.str.contains("@", regex=False).to_numpy(), "phone": digits >= 8,
                 "ip": (text.str.contains(".", regex=False) | text.str.contains(":", regex=False)).to_numpy(),
                 "national_id": digits >= 6, "card": digits >= 13, "iban": digits >= 10}
        for kind, test in _SIMPLE.items():
            hits = np.zeros(n, dtype=bool)
            hits[worth[kind]] = [test(v) for v in text[worth[kind]]]
            _add(out, name, kind, text, hits, n, min_share)
        for kind, check in _CHECKSUM.items():
            candidates, hits = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
            for i in np.flatnonzero(worth[kind]):
                candidates[i], hits[i] = check(text.iloc[i])
            if candidates.any() and hits.sum() >= CHECKSUM_RATIO * candidates.sum():
                _add(out, name, kind, text, hits, n, min_share)
    reason = name_says_personal(name)
    if reason and not pd.api.types.is_bool_dtype(s) and s.nunique() >= MIN_DISTINCT_FOR_NAME and not out:
        out.append(Finding(name, "name", 1.0, int(s.notna().sum()), int(s.notna().sum()), [], reason))
    return out


def _add(out: list[Finding], name: str, kind: str, text: pd.Series, hits: np.ndarray, n: int,
         min_share: float) -> None:
    share = float(hits.mean()) if n else 0.0
    if hits.any() and share >= min_share:
        examples = list(dict.fromkeys(mask(v, kind) for v in text[hits].iloc[:10]))[:3]
        out.append(Finding(name, kind, round(share, 4), int(hits.sum()), n, examples,
                           f"{KIND_LABEL[kind]} in {share:.0%} of sampled values"))


def scan_table(df: pd.DataFrame, allow: list[str] | tuple[str, ...] = (), min_share: float = 0.05
               ) -> list[Finding]:
    """Every finding in every column not in `allow`."""
    findings: list[Finding] = []
    for col in df.columns:
        if str(col) in allow:
            continue
        findings += scan_column(str(col), df[col], min_share)
    return findings


# --------------------------------------------------------------------------------------------- hashing ---
def hash_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    return hashlib.blake2b(str(v).strip().encode("utf-8"), digest_size=8, person=b"mlengine-pii").hexdigest()


def hash_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The same digests at training and at predict (missing stays missing)."""
    present = [c for c in columns if c in df.columns]
    if not present:
        return df
    df = df.copy()
    for c in present:
        df[c] = pd.Series([hash_value(v) for v in df[c]], index=df.index, dtype="str")
    return df


# ----------------------------------------------------------------------------------------------- stage ---
def apply_pii(raw: pd.DataFrame, recipe: Any) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """Scan and act (data.pii.action): (table, recipe with PII columns added to data.drop if dropped, record)."""
    d, pii = recipe.data, recipe.data.pii
    findings = scan_table(raw, allow=pii.allow, min_share=pii.min_share)
    ignored = [f for f in findings if f.column in d.drop]
    active = [f for f in findings if f.column not in d.drop]
    columns = list(dict.fromkeys(f.column for f in active))
    record: dict[str, Any] = {"action": pii.action, "scanned": int(raw.shape[1]), "allow": list(pii.allow),
                              "min_share": pii.min_share, "findings": [f.to_dict() for f in findings],
                              "in_dropped_columns": [f.column for f in ignored], "dropped": [], "hashed": []}
    for f in ignored:
        log.info("pii: %s, already in data.drop", f.describe())
    if not active:
        log.info("pii: no personal data found in %d columns", raw.shape[1])
        return raw, recipe, record
    listing = "; ".join(f.describe() for f in active)
    roles = {"data.target": d.target, "data.id": d.id, "data.group": d.group, "data.time": d.time}
    role_of = {col: key for key, col in roles.items() if col}
    if pii.action == "fail":
        raise DataError(f"data.pii: {len(columns)} column(s) look like personal data: {listing}. Decide in the "
                        "recipe: data.pii.action: drop, hash or allow; or list known-safe columns in "
                        "data.pii.allow; or add them to data.drop.")
    if pii.action == "allow":
        log.warning("pii: allowed by data.pii.action: allow: %s", listing)
        return raw, recipe, record
    blocked = [c for c in columns if c in role_of
               and (pii.action == "drop" or role_of[c] in ("data.target", "data.time"))]
    if blocked:
        raise DataError(f"data.pii.action: {pii.action} cannot apply to "
                        + ", ".join(f"{c!r} ({role_of[c]})" for c in blocked)
                        + f"; it looks like personal data: {listing}. Use data.pii.allow for it, or pick another "
                          "column for that role.")
    if pii.action == "drop":
        record["dropped"] = columns
        log.warning("pii: dropped %s (data.pii.action: drop)", ", ".join(columns))
        new_data = d.model_copy(update={"drop": [*d.drop, *columns]})
        return raw, recipe.model_copy(update={"data": new_data}), record
    forced = [c for c in columns if c in d.schema_ and d.schema_[c].dtype not in (None, "str", "category")]
    if forced:
        raise DataError(f"data.pii.action: hash turns {', '.join(map(repr, forced))} into text digests, but "
                        + ", ".join(f"data.schema.{c}.dtype is {d.schema_[c].dtype!r}" for c in forced)
                        + "; remove that dtype or use data.pii.action: drop.")
    record["hashed"] = columns
    log.warning("pii: hashed %s (data.pii.action: hash)", ", ".join(columns))
    return hash_columns(raw, columns), recipe, record


@stage(reads=("raw",), writes=("raw", "loaded"))
def stage_pii(ctx: Any) -> None:
    """Scan the raw table and fail, drop, hash or allow what looks like personal data."""
    from dataclasses import replace

    raw, recipe, record = apply_pii(ctx.raw, ctx.recipe)
    ctx.raw = raw
    ctx.report["pii"] = record
    if recipe is not ctx.recipe:
        ctx.loaded = replace(ctx.loaded, recipe=recipe)
    ctx.data_checks["pii_hashed"] = record["hashed"]
