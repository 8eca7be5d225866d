"""Addresses to points, for Open311 requests that name an address instead of coordinates.

An outside service behind a small interface picked by `GEOCODER`: `none` (the default: no
address can be placed, so such a request is a 400 asking for lat/long) or `nominatim`
(an OpenStreetMap Nominatim server at NOMINATIM_URL, asked for one result inside the city's
bounding box). The point still has to lie inside the city (models.reports.check_location).
"""
from __future__ import annotations

import logging

import requests
from flask import current_app

from models.geography import city_map

log = logging.getLogger("api.open311.geocoding")
TIMEOUT_SECONDS = 3.0


class NominatimGeocoder:
    def __init__(self, base_url: str, boundary_file: str, districts_file: str, user_agent: str):
        self.base_url = base_url.rstrip("/")
        self.bounds = city_map(boundary_file, districts_file).bounds
        self.user_agent = user_agent

    def __call__(self, address: str) -> tuple[float, float] | None:
        b = self.bounds
        try:
            response = requests.get(
                f"{self.base_url}/search",
                params={
                    "q": address, "format": "jsonv2", "limit": 1, "countrycodes": "de", "bounded": 1,
                    "viewbox": f"{b.min_lon},{b.max_lat},{b.max_lon},{b.min_lat}",
                },
                headers={"User-Agent": self.user_agent},
                timeout=TIMEOUT_SECONDS,
            )
            response.raise_for_status()
            found = response.json()
        except (requests.RequestException, ValueError) as error:
            # The request is answered 400 (address not placed); the filer can send lat/long.
            log.warning("geocoder unavailable: %s", error)
            return None
        if not isinstance(found, list) or not found:
            return None
        try:
            return float(found[0]["lat"]), float(found[0]["lon"])
        except (KeyError, TypeError, ValueError):
            return None


def geocoder():
    """The configured geocoder (a callable address -> (lat, lon) | None), or None."""
    config = current_app.config
    kind = config["GEOCODER"]
    if kind == "none":
        return None
    if kind == "nominatim":
        cached = current_app.extensions.get("geocoder")
        if cached is None:
            cached = current_app.extensions["geocoder"] = NominatimGeocoder(
                config["NOMINATIM_URL"], config["CITY_BOUNDARY_FILE"], config["DISTRICTS_FILE"], config["OPEN311_CONTACT"]
            )
        return cached
    raise RuntimeError(f"GEOCODER={kind!r}: use none or nominatim")
