"""German and English messages of the budget vote (registered with `api.i18n`)."""
from __future__ import annotations

from api.i18n import register_messages

MESSAGES: dict[str, dict[str, str]] = {
    "budget_term_end_before_start": {
        "de": "Das Ende der Amtszeit darf nicht vor ihrem Beginn liegen.",
        "en": "The term cannot end before it starts.",
    },
    "budget_max_items_below_min": {
        "de": "max_items darf nicht kleiner als min_items sein.",
        "en": "max_items must not be smaller than min_items.",
    },
    "budget_points_required": {
        "de": "Für Punkte-Stimmzettel (cumulative) ist die Punktzahl (points ≥ 1) nötig.",
        "en": "Cumulative ballots need the number of points (points ≥ 1).",
    },
    "budget_points_only_cumulative": {
        "de": "Punkte gibt es nur bei Punkte-Stimmzetteln (cumulative).",
        "en": "Points only exist on cumulative ballots.",
    },
    "budget_end_in_past": {
        "de": "Dieser Zeitpunkt liegt in der Vergangenheit.",
        "en": "This time lies in the past.",
    },
    "budget_voting_end_before_proposals_end": {
        "de": "Die Abstimmung muss nach dem Ende der Vorschlagsphase enden.",
        "en": "Voting must end after the proposal phase ends.",
    },
    "budget_illegal_transition": {
        "de": "Eine Runde im Status „{frm}“ kann nicht nach „{to}“ wechseln.",
        "en": "A round in status '{frm}' cannot move to '{to}'.",
    },
    "budget_items_unreviewed": {
        "de": "Es gibt noch Vorschläge, die nicht geprüft wurden.",
        "en": "Some proposals have not been reviewed yet.",
    },
    "budget_no_feasible_items": {
        "de": "Es gibt keinen umsetzbaren Vorschlag, über den abgestimmt werden kann.",
        "en": "There is no feasible item to vote on.",
    },
    "budget_too_few_feasible_items": {
        "de": "Jeder Stimmzettel braucht mindestens {min} Projekt(e), es gibt aber nur {feasible} umsetzbare.",
        "en": "Every ballot needs at least {min} item(s), but only {feasible} are feasible.",
    },
    "budget_wrong_phase": {
        "de": "Das ist in dieser Phase der Runde („{status}“) nicht möglich.",
        "en": "This is not possible in the round's current phase ('{status}').",
    },
    "budget_not_a_member": {
        "de": "Nur aktuelle Mitglieder dieses Gremiums dürfen das.",
        "en": "Only current members of this body may do this.",
    },
    "budget_cost_over_budget": {
        "de": "Die Kosten dürfen das Budget von {budget} € nicht übersteigen.",
        "en": "The cost must not exceed the budget of {budget} €.",
    },
    "budget_reason_required": {
        "de": "Bitte begründe, warum der Vorschlag nicht umsetzbar ist.",
        "en": "Please give a reason why the item is not feasible.",
    },
    "budget_unknown_item": {
        "de": "Das Projekt {item} gehört nicht zu dieser Runde.",
        "en": "Item {item} is not part of this round.",
    },
    "budget_item_not_feasible": {
        "de": "Das Projekt {item} ist nicht umsetzbar und steht nicht zur Wahl.",
        "en": "Item {item} is not feasible and cannot be voted for.",
    },
    "budget_duplicate_items": {
        "de": "Jedes Projekt darf nur einmal vorkommen.",
        "en": "Each item may appear only once.",
    },
    "budget_approval_needs_item_ids": {
        "de": "Bei dieser Abstimmung wählst du Projekte aus: bitte item_ids senden.",
        "en": "This vote is by choosing items: please send item_ids.",
    },
    "budget_cumulative_needs_points": {
        "de": "Bei dieser Abstimmung verteilst du Punkte: bitte points senden.",
        "en": "This vote is by giving points: please send points.",
    },
    "budget_negative_points": {
        "de": "Punkte dürfen nicht negativ sein (Projekt {item}).",
        "en": "Points must not be negative (item {item}).",
    },
    "budget_points_total": {
        "de": "Du musst genau {points} Punkte verteilen, nicht {given}.",
        "en": "You must give out exactly {points} points, not {given}.",
    },
    "budget_too_few_items": {
        "de": "Bitte wähle mindestens {min} Projekt(e).",
        "en": "Please choose at least {min} item(s).",
    },
    "budget_too_many_items": {
        "de": "Du darfst höchstens {max} Projekt(e) wählen.",
        "en": "You may choose at most {max} item(s).",
    },
    "budget_over_max_cost": {
        "de": "Deine Auswahl kostet {cost} €, erlaubt sind höchstens {max_cost} €.",
        "en": "Your choice costs {cost} €; at most {max_cost} € is allowed.",
    },
    "budget_ballot_conflict": {
        "de": "Dein Stimmzettel wurde gleichzeitig geändert. Bitte erneut senden.",
        "en": "Your ballot was changed at the same time. Please send it again.",
    },
    "budget_results_not_ready": {
        "de": "Die Ergebnisse gibt es erst, wenn die Abstimmung beendet ist.",
        "en": "Results are only available once voting has closed.",
    },
}

register_messages(MESSAGES)
