"""Open311 GeoReport v2 at /open311/v2/: the city's back-office systems read and file reports."""
