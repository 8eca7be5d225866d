"""Reading the console's forms with the API's own schemas, and times in Europe/Berlin.

A form is held to exactly the rules of the JSON body it stands for: the fields go through
the API endpoint's marshmallow schema (lengths, NUL bytes, the 2000–2999 time range), and
its messages reach the page in the console's language. Times people type are wall-clock
times in Dortmund (`<input type="datetime-local">`); they become aware UTC before the
schema sees them, as ISO 8601 with an offset, the one time format of the API.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import marshmallow as ma

from api.errors import flatten_errors
from api.fields import EARLIEST, LATEST, FormFields
from models.errors import DomainError

from ..texts import lang, register_texts, t
from . import blp

BERLIN = ZoneInfo("Europe/Berlin")
OUT_OF_RANGE = "Must lie between the years 2000 and 2999."
NOT_A_TIME = "Not a valid datetime."

register_texts({
    "forms_invalid": ("Bitte die markierten Felder prüfen. Es wurde nichts gespeichert.",
                     "Please check the marked fields. Nothing was saved."),
    "forms_no_such_time": ("Diese Uhrzeit gibt es an dem Tag nicht (Umstellung auf Sommerzeit).",
                            "This time does not exist on that day (clocks go forward)."),
})


class FormInvalid(Exception):
    """Input a form's schema (or a domain rule on one field) refused: messages by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("forms_invalid")
        self.errors = errors

    @property
    def fields(self) -> dict[str, str]:
        """One line per field, in the console's language (for the field's own message)."""
        return {field: " ".join(t(message) for message in messages) for field, messages in self.errors.items()}


def load(schema: ma.Schema, data: dict, time_errors: dict[str, list[str]] | None = None) -> dict:
    """The payload as the API would read it from the same values; FormInvalid otherwise."""
    errors = dict(time_errors or {})
    try:
        # Form values are text: the API's numbers and booleans read them as digits and true/false.
        payload = schema.load(FormFields({k: v for k, v in data.items() if k not in errors}))
    except ma.ValidationError as error:
        # By dotted field name, not yet worded: t() words them in the console's language.
        errors.update(flatten_errors(error.messages, word=str))
        payload = None
    if errors:
        raise FormInvalid(errors)
    return payload


def field_errors(error: DomainError) -> dict[str, str]:
    """A domain refusal tied to fields (`Invalid`) marks those fields on the page too."""
    return {field: " ".join(t(m, **error.params) for m in messages) for field, messages in (error.errors or {}).items()}


def local_to_utc(value: str | None) -> str | None:
    """`2026-05-01T18:00` as meant in Dortmund → `2026-04-30T16:00:00+00:00`; empty → None.

    ValueError with the field's message for text that is no time, a year outside 2000–2999
    (checked before any conversion could overflow), or a wall-clock time skipped when the
    clocks go forward (02:30 on the last Sunday of March). A time that happens twice (the
    last Sunday of October) is taken the first time, in summer time.
    """
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 40:
        raise ValueError(NOT_A_TIME)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(NOT_A_TIME) from None
    if not EARLIEST.year <= parsed.year <= LATEST.year:
        raise ValueError(OUT_OF_RANGE)
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=BERLIN)
        moment = local.astimezone(timezone.utc)
        if moment.astimezone(BERLIN).replace(tzinfo=None) != parsed:
            raise ValueError("forms_no_such_time")
    else:
        moment = parsed.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def read_times(form, names: tuple[str, ...]) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """The form's datetime-local fields as ISO texts for the schema, and the ones refused."""
    values, errors = {}, {}
    for name in names:
        try:
            values[name] = local_to_utc(form.get(name))
        except ValueError as error:
            errors[name] = [str(error)]
    return values, errors


@blp.app_template_filter("berlin_input")
def berlin_input(moment: datetime | None) -> str:
    """The value of a `datetime-local` input for a stored time (seconds only where there are some)."""
    if moment is None:
        return ""
    local = moment.astimezone(BERLIN)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


@blp.app_template_filter("berlin_time")
def berlin_time(moment: datetime | None) -> str:
    """A time as people in Dortmund read it."""
    if moment is None:
        return ""
    local = moment.astimezone(BERLIN)
    return local.strftime("%Y-%m-%d %H:%M" if lang() == "en" else "%d.%m.%Y, %H:%M Uhr")
