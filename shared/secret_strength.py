"""Is a secret good enough outside local mode?

A production secret (the JWT signing key, the customer-id salt) must be at
least 32 random bytes, e.g. ``openssl rand -hex 32``. Randomness cannot be
proven from the value, so three checks stand in for it:

* not a known placeholder: the local defaults, the text of our own templates,
  and the usual ``changeme`` family;
* at least ``MIN_BYTES`` (32) bytes long;
* spread: the length times the Shannon entropy of its characters is at least
  ``MIN_BITS`` (128). ``x`` * 40 or ``abcd`` * 10 fail; 64 hex characters
  (~240 bits by this estimate) and 44 base64 characters pass.
"""

from __future__ import annotations

import math
from collections import Counter

MIN_BYTES = 32
MIN_BITS = 128

# Lower-cased. The local defaults of shared/config.py, the placeholder of
# deploy/k8s/secret-jwt.template.yaml, and values people type when told to "set a secret".
KNOWN_PLACEHOLDERS = frozenset(
    {
        "heartline-local-dev-secret-change-me",
        "heartline-local-customer-salt",
        "replace-with-at-least-32-random-bytes",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "default",
        "test",
        "example",
    }
)
# A value containing one of these is a placeholder someone forgot to replace.
PLACEHOLDER_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-with",
    "replace_me",
    "placeholder",
    "your-secret",
    "example",
)


def estimated_bits(value: str) -> float:
    """Length x Shannon entropy of the character distribution (an upper bound, not proof)."""
    if not value:
        return 0.0
    n = len(value)
    return max(0.0, n * -sum(c / n * math.log2(c / n) for c in Counter(value).values()))


def weakness(value: str) -> str | None:
    """Why ``value`` is not good enough as a production secret, or None."""
    low = value.strip().lower()
    if low in KNOWN_PLACEHOLDERS or any(word in low for word in PLACEHOLDER_WORDS):
        return "is a published placeholder"
    if len(value.encode()) < MIN_BYTES:
        return f"is shorter than {MIN_BYTES} bytes"
    if estimated_bits(value) < MIN_BITS:
        return "has too little variety to be random (repeated or few distinct characters)"
    return None
