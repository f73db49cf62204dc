"""What the nudger keeps of a record it reads: timing, not words; a hashed customer id, not the id.

The nudger reads raw ``stt-events`` (lifecycle events and partials, for the
timing rules) next to the analyzer's redacted ``utterance-analysis``. No
service but the analyzer may hold unredacted text, so a record is cut down
here, on arrival — before the engine, its table (and the table's changelog
topic) or any nudge sees it:

* a raw **final** is dropped: it arrives analysed, and redacted, on
  ``utterance-analysis``;
* a raw **partial** keeps its seq, speaker and times; its text becomes
  ``speech.mask(text)`` — the same length and punctuation, backchannel
  characters (嗯 好的 对) kept, every other character ``•`` — which is all the
  timing rules read (content length, "is this just a backchannel"). Nudge
  reasons quote only the analyzer's text (``speech.quote`` quotes nothing of
  a timing view);
* a ``call_started``'s ``customer.id`` becomes ``customer.id_hash``
  (``shared.pii.hash_customer`` with ``HEARTLINE_CUSTOMER_SALT``, the
  recorder's salt): ``call-state``, the desks and the walls never carry the id.

``heartline replay`` admits events through ``admit`` too, so what it prints is
what the live nudger would send.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from services.nudger.speech import mask
from shared.pii import hash_customer
from shared.schemas import CallStarted, Customer, Utterance


def private_customer(customer: Customer, salt: str) -> Customer:
    """The customer as the nudger passes them on: name and segment, the id only hashed."""
    cid = (customer.id or "").strip()
    return Customer(name=customer.name, segment=customer.segment, id_hash=hash_customer(salt, cid) if cid else None)


R = TypeVar("R", bound=BaseModel)


def admit(item: R, salt: str) -> R | None:
    """The record as the nudger may hold it, or None when it has nothing for the nudger."""
    if isinstance(item, Utterance):
        if item.is_final:
            return None
        return item.model_copy(update={"text": mask(item.text)})
    if isinstance(item, CallStarted):
        return item.model_copy(update={"customer": private_customer(item.customer, salt)})
    return item
