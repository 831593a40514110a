"""A/B routing: a stable hash of the request key picks an arm, so one user always gets the same model."""

from __future__ import annotations

import hashlib
import uuid

from mlengine.errors import UserError


def parse_split(text: str | None, arms: list[str]) -> dict[str, float]:
    """'a=90,b=10' -> {'a': 0.9, 'b': 0.1}; every arm named once, weights positive."""
    if not text:
        return {arms[0]: 1.0}
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise UserError(f"--split {text!r}: {part!r} is not NAME=WEIGHT (e.g. a=90,b=10).") from None
    unknown = [n for n in weights if n not in arms]
    if unknown or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise UserError(f"--split {text!r}: names must be --model names ({', '.join(arms)}) with weights >= 0 "
                        "summing to more than 0.")
    total = sum(weights.values())
    return {n: w / total for n, w in weights.items()}


def live_split(weights: dict[str, float], arms: list[str], shadow: str | None) -> dict[str, float]:
    """The arms that answer, with weights summing to 1: the shadow and zero-weight arms never answer, and a
    shadow's declared share goes to the others pro rata (so a=45,b=45,s=10 --shadow s answers 50/50)."""
    live = {n: w for n, w in weights.items() if n != shadow and w > 0}
    if not live:
        others = [n for n in arms if n != shadow]
        if not others:
            raise UserError(f"--shadow {shadow!r} is the only --model: another arm must answer the requests.")
        live = {others[0]: 1.0}
    total = sum(live.values())
    return {n: w / total for n, w in live.items()}


def pick_arm(split: dict[str, float], key: str | None) -> str:
    """The arm for `key` (a random key when the request has none)."""
    key = key if key is not None else uuid.uuid4().hex
    u = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64
    edge = 0.0
    for name, weight in split.items():
        edge += weight
        if u < edge:
            return name
    return next(reversed(split))
