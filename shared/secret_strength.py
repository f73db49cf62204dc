"""Is a secret good enough outside local mode?

A production secret (the JWT signing key, the customer-id salt) must be at
least 32 random bytes (256 bits): ``openssl rand -hex 32``, ``openssl rand
-base64 32`` or ``python -c 'import secrets; print(secrets.token_urlsafe(32))'``.
Randomness cannot be proven from the value, so these checks stand in for it:

* not a known placeholder: the local defaults, the text of our own templates,
  and the usual ``changeme`` family;
* at least ``MIN_BYTES`` (32) bytes long;
* an estimated ``MIN_BITS`` (256) bits: its length times log2 of the size of
  the alphabet its characters come from (``ALPHABETS``: digits 10,
  hexadecimal 16, one-case letters 26, one-case letters and digits 36,
  letters and digits 62, base64 and its URL-safe form 64, anything else 94).
  64 hex characters are 256 bits, 44 base64 characters 264, the 43 of
  ``token_urlsafe(32)`` 258 (256.03 when none of them is ``-`` or ``_``; a
  mixed-case string counts as letters and digits even without a digit, so
  that a random one never falls short by chance). 32 hex characters (16
  bytes) are 128 bits and refused;
* no pattern a random string of that alphabet and length would show with a
  probability under one in a billion (``CHANCE``): few distinct characters,
  a long run or sequence (``xxxxxx``, ``abcdef``, ``654321``), a long stretch
  that occurs twice (``abcd`` * 12, a phrase repeated). A value from one of
  the commands above fails these by chance less than once in a billion.

The reasons never quote the value.
"""

from __future__ import annotations

import itertools
import math
import string

MIN_BYTES = 32
MIN_BITS = 256
CHANCE = 1e-9

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

_LOWER, _UPPER = string.ascii_lowercase, string.ascii_uppercase
_LETTERS_DIGITS = string.ascii_letters + string.digits
# The alphabets a generated secret is drawn from, smallest first: a value is taken to come from
# the first whose characters include all of its own.
ALPHABETS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("digits", 10, (string.digits,)),
    ("hexadecimal", 16, ("0123456789abcdef", "0123456789ABCDEF")),
    ("one-case letters", 26, (_LOWER, _UPPER)),
    ("one-case letters and digits", 36, (_LOWER + string.digits, _UPPER + string.digits)),
    ("letters and digits", 62, (_LETTERS_DIGITS,)),
    ("base64", 64, (_LETTERS_DIGITS + "+/=", _LETTERS_DIGITS + "-_=")),
)
PRINTABLE = ("printable characters", 94)


def alphabet(value: str) -> tuple[str, int]:
    """The name and size of the smallest alphabet in ``ALPHABETS`` that holds every character of
    ``value``; printable ASCII (94) when none does."""
    chars = set(value)
    for name, size, variants in ALPHABETS:
        if any(chars <= set(v) for v in variants):
            return name, size
    return PRINTABLE


def estimated_bits(value: str) -> float:
    """Length x log2(alphabet size): what the value would hold if every character were random."""
    return len(value) * math.log2(alphabet(value)[1]) if value else 0.0


def _longest_run(value: str) -> int:
    """The longest stretch whose code points step by the same 0, +1 or -1 (``aaaa``, ``abcd``, ``4321``)."""
    longest = run = 1
    step: int | None = None
    for prev, cur in itertools.pairwise(value):
        diff = ord(cur) - ord(prev)
        if diff not in (-1, 0, 1):
            run, step = 1, None
        elif diff == step:
            run += 1
        else:
            run, step = 2, diff
        longest = max(longest, run)
    return longest


def _occurs_twice(value: str, k: int) -> bool:
    seen: set[str] = set()
    for i in range(len(value) - k + 1):
        stretch = value[i : i + k]
        if stretch in seen:
            return True
        seen.add(stretch)
    return False


def _longest_repeat(value: str) -> int:
    """The length of the longest stretch that occurs at two places (overlapping allowed); a
    binary search, since every part of a repeated stretch repeats too."""
    low, high = 0, len(value) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if _occurs_twice(value, mid):
            low = mid
        else:
            high = mid - 1
    return low


def _log_chance_distinct(n: int, size: int, distinct: int) -> float:
    """log10 of a bound on the chance that ``n`` random characters of ``size`` show at most
    ``distinct`` distinct ones: C(size, distinct) x (distinct / size) ** n."""
    return (math.lgamma(size + 1) - math.lgamma(distinct + 1) - math.lgamma(size - distinct + 1)) / math.log(
        10
    ) + n * math.log10(distinct / size)


def pattern(value: str) -> str | None:
    """The pattern in ``value`` that a random string of its alphabet and length would show with a
    chance under ``CHANCE``, said without quoting the value; None when there is none."""
    n, size = len(value), alphabet(value)[1]
    limit = math.log10(CHANCE)
    distinct = len(set(value))
    if distinct < size and _log_chance_distinct(n, size, distinct) < limit:
        return f"only {distinct} distinct characters in {n}"
    run = _longest_run(value)
    # 3 kinds of step, n - run + 1 places, each next character 1 / size.
    if run > 1 and math.log10(3 * (n - run + 1)) - (run - 1) * math.log10(size) < limit:
        return f"a run or sequence of {run} characters"
    repeat = _longest_repeat(value)
    places = n - repeat + 1
    if repeat and math.log10(places * (places - 1) / 2) - repeat * math.log10(size) < limit:
        return f"a stretch of {repeat} characters that occurs twice"
    return None


def weakness(value: str) -> str | None:
    """Why ``value`` is not good enough as a production secret, or None."""
    low = value.strip().lower()
    if low in KNOWN_PLACEHOLDERS or any(word in low for word in PLACEHOLDER_WORDS):
        return "is a published placeholder"
    if len(value.encode()) < MIN_BYTES:
        return f"is shorter than {MIN_BYTES} bytes"
    bits = estimated_bits(value)
    if bits < MIN_BITS:
        name, size = alphabet(value)
        return (
            f"holds an estimated {bits:.0f} bits ({len(value)} characters of {name}, {size} possible each), "
            f"under {MIN_BITS}"
        )
    found = pattern(value)
    if found:
        return f"has too little variety to be random ({found})"
    return None
