"""Messages of the statistics' query rules (models.report_stats)."""
from __future__ import annotations

from api.i18n import register_messages

register_messages(
    {
        "stats_range_reversed": {
            "de": "Der erste Monat (from) muss vor dem letzten (to) liegen oder derselbe sein.",
            "en": "The first month (from) must not come after the last one (to).",
        },
        "stats_range_too_long": {
            "de": "Höchstens {max} Jahre auf einmal.",
            "en": "At most {max} years at a time.",
        },
    }
)
