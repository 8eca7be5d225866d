"""Why a project was or was not funded, in words a young voter can read."""

from __future__ import annotations

from enum import StrEnum


class Explanation(StrEnum):
    SELECTED = "selected"
    # Equal shares: the people who voted for it had too little of their share
    # left.  Also used, for every rule, for projects nobody voted for.
    NO_SUPPORT_LEFT = "no_support_left"
    # The money left in the overall budget was less than the project costs.
    DID_NOT_FIT = "did_not_fit"
    # Marked as not feasible by the administration; never funded.
    NOT_FEASIBLE = "not_feasible"


_TEXTS: dict[str, dict[Explanation, str]] = {
    "de": {
        Explanation.SELECTED: "Dieses Projekt wird umgesetzt.",
        Explanation.NO_SUPPORT_LEFT: (
            "Die Menschen, die für dieses Projekt gestimmt haben, hatten nicht mehr genug "
            "von ihrem Anteil am Budget übrig – oder niemand hat dafür gestimmt."
        ),
        Explanation.DID_NOT_FIT: "Im Budget war nicht mehr genug Geld für dieses Projekt übrig.",
        Explanation.NOT_FEASIBLE: "Dieses Projekt kann leider nicht umgesetzt werden, deshalb zählt es nicht.",
    },
    "en": {
        Explanation.SELECTED: "This project will be carried out.",
        Explanation.NO_SUPPORT_LEFT: (
            "The people who voted for this project did not have enough of their share "
            "of the budget left – or nobody voted for it."
        ),
        Explanation.DID_NOT_FIT: "There was not enough money left in the budget for this project.",
        Explanation.NOT_FEASIBLE: "This project cannot be carried out, so it was not counted.",
    },
}

LANGUAGES = tuple(_TEXTS)


def texts(code: str | Explanation, lang: str = "de") -> str:
    """Plain-language text for an explanation code; German unless ``lang="en"``."""
    return _TEXTS.get(lang, _TEXTS["de"])[Explanation(code)]
