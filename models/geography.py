"""Dortmund on the map: the city boundary, its 12 Stadtbezirke, and the grids reports sit on.

The boundary and district polygons are read once per process (files named by the settings
`CITY_BOUNDARY_FILE` and `DISTRICTS_FILE`, so the city can drop in its official district
layer without a code change) and tested with prepared geometries: a point test costs a few
microseconds instead of a walk along 450 vertices.

Attribution of the bundled data (see models/geodata/SOURCE.md): city boundary
"© GeoBasis-DE / BKG (2019), Daten verändert" (dl-de/by-2-0); the district file is an
approximation made from it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import Point, shape
from shapely.ops import unary_union

GEODATA = Path(__file__).resolve().parent / "geodata"
DEFAULT_BOUNDARY_FILE = GEODATA / "dortmund-boundary.geojson"
DEFAULT_DISTRICTS_FILE = GEODATA / "dortmund-stadtbezirke-approx.geojson"

EARTH_RADIUS_M = 6_371_008.8


class GeodataError(RuntimeError):
    """A boundary or district file that cannot serve: refused when the app starts."""


@dataclass(frozen=True)
class Bounds:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def clamp(self, other: "Bounds") -> "Bounds | None":
        """The part of `other` inside these bounds, or None when they do not meet."""
        clamped = Bounds(
            max(self.min_lon, other.min_lon),
            max(self.min_lat, other.min_lat),
            min(self.max_lon, other.max_lon),
            min(self.max_lat, other.max_lat),
        )
        if clamped.min_lon > clamped.max_lon or clamped.min_lat > clamped.max_lat:
            return None
        return clamped


def _features(path: Path) -> list[dict]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GeodataError(f"cannot read {path}: {exc}") from exc
    if document.get("type") == "Feature":
        return [document]
    if document.get("type") == "FeatureCollection":
        return list(document.get("features") or [])
    raise GeodataError(f"{path}: expected a GeoJSON Feature or FeatureCollection")


class CityMap:
    """Where a point lies: inside Dortmund or not, and in which Stadtbezirk."""

    def __init__(self, boundary, districts: list[tuple[str, object]]):
        self.boundary = boundary
        shapely.prepare(boundary)
        self.districts = districts
        for _slug, geometry in districts:
            shapely.prepare(geometry)
        min_lon, min_lat, max_lon, max_lat = boundary.bounds
        self.bounds = Bounds(min_lon, min_lat, max_lon, max_lat)

    @property
    def district_slugs(self) -> list[str]:
        return [slug for slug, _ in self.districts]

    def contains(self, lat: float, lon: float) -> bool:
        return bool(shapely.contains_xy(self.boundary, lon, lat))

    def district_at(self, lat: float, lon: float) -> str | None:
        """The district of a point inside the city, or None outside it.

        The district layer may leave slivers along its own lines (an official layer is drawn
        independently of the boundary): a point inside the city but in no district belongs
        to the nearest one, never to none.
        """
        if not self.contains(lat, lon):
            return None
        for slug, geometry in self.districts:
            if shapely.contains_xy(geometry, lon, lat):
                return slug
        point = Point(lon, lat)
        return min(self.districts, key=lambda item: item[1].distance(point))[0]

    def district_outline(self, slug: str) -> dict | None:
        for candidate, geometry in self.districts:
            if candidate == slug:
                return shapely.geometry.mapping(geometry)
        return None


def load_city_map(boundary_file: str | Path, districts_file: str | Path, known_districts: list[str]) -> CityMap:
    boundary_features = _features(Path(boundary_file))
    if not boundary_features:
        raise GeodataError(f"{boundary_file}: no boundary feature")
    boundary = unary_union([shape(f["geometry"]) for f in boundary_features])
    districts = []
    for feature in _features(Path(districts_file)):
        properties = feature.get("properties") or {}
        slug = properties.get("id") or feature.get("id")
        if slug not in known_districts:
            raise GeodataError(f"{districts_file}: district {slug!r} is not one of {', '.join(known_districts)}")
        districts.append((slug, shape(feature["geometry"])))
    missing = set(known_districts) - {slug for slug, _ in districts}
    if missing:
        raise GeodataError(f"{districts_file}: districts missing: {', '.join(sorted(missing))}")
    # The reference order (models.reference.DISTRICTS), whatever the file's order.
    districts.sort(key=lambda item: known_districts.index(item[0]))
    return CityMap(boundary, districts)


@lru_cache(maxsize=4)
def city_map(boundary_file: str, districts_file: str) -> CityMap:
    """One CityMap per process and pair of files."""
    from .reference import DISTRICTS

    return load_city_map(boundary_file, districts_file, [slug for slug, _ in DISTRICTS])


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); metres are what the nearby rule speaks in."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def degrees_around(lat: float, metres: float) -> tuple[float, float]:
    """Half-widths (latitude, longitude) in degrees of a square `metres` around a point."""
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    dlon = math.degrees(metres / (EARTH_RADIUS_M * max(0.01, math.cos(math.radians(lat)))))
    return dlat, dlon


# ---------------------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------------------
#
# Two grids, both plain integer arithmetic on (lat, lon), so both databases index them alike:
#
# * the page grid (PAGE_CELL_*, about 1.1 km square in Dortmund) keys newest-first pages of
#   a map box: a 1 km² box touches at most 2 x 2 cells, each walked by an index on (cell, id)
#   that holds the point, so points outside the box are skipped inside the index. Fewer,
#   larger cells won over many small ones on PostgreSQL, where every walked cell costs an
#   index descent and an arm of the plan (bench/REPORTS.md: 25 cells of 280 m, 0.21 ms a
#   page; 4 cells of 1.1 km, 0.12 ms);
# * the cluster grid follows web-map zoom levels (4 x 4 cells per 256-pixel tile), so a
#   cluster answer at any zoom is a handful of per-cell count rows kept up to date on writes.

PAGE_CELL_LAT = 0.01
PAGE_CELL_LON = 0.016
# Cells per row of the page grid's numbering (longitude spans 360 / 0.016 = 22,500 cells).
PAGE_CELL_STRIDE = 100_000


def page_cell(lat: float, lon: float) -> int:
    row = math.floor((lat + 90.0) / PAGE_CELL_LAT)
    column = math.floor((lon + 180.0) / PAGE_CELL_LON)
    return row * PAGE_CELL_STRIDE + column


def page_cells(bounds: Bounds) -> list[int]:
    """Every page-grid cell a box touches, row by row."""
    row0 = math.floor((bounds.min_lat + 90.0) / PAGE_CELL_LAT)
    row1 = math.floor((bounds.max_lat + 90.0) / PAGE_CELL_LAT)
    col0 = math.floor((bounds.min_lon + 180.0) / PAGE_CELL_LON)
    col1 = math.floor((bounds.max_lon + 180.0) / PAGE_CELL_LON)
    return [row * PAGE_CELL_STRIDE + col for row in range(row0, row1 + 1) for col in range(col0, col1 + 1)]


def page_cell_count(bounds: Bounds) -> int:
    rows = math.floor((bounds.max_lat + 90.0) / PAGE_CELL_LAT) - math.floor((bounds.min_lat + 90.0) / PAGE_CELL_LAT) + 1
    cols = math.floor((bounds.max_lon + 180.0) / PAGE_CELL_LON) - math.floor((bounds.min_lon + 180.0) / PAGE_CELL_LON) + 1
    return rows * cols


# Zoom levels with kept counts; a request for another zoom is answered at the nearest.
CLUSTER_ZOOMS = tuple(range(8, 17))
CELLS_PER_TILE_SIDE = 4


def cluster_cell(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """(x, y) of the cluster cell at `zoom`: web-mercator tile numbering, 4 x 4 cells per tile."""
    n = (2 ** zoom) * CELLS_PER_TILE_SIDE
    x = math.floor((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(max(-85.0511, min(85.0511, lat)))
    y = math.floor((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def cluster_cell_range(bounds: Bounds, zoom: int) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) of the cluster cells a box touches (y grows southwards)."""
    x0, y0 = cluster_cell(bounds.max_lat, bounds.min_lon, zoom)
    x1, y1 = cluster_cell(bounds.min_lat, bounds.max_lon, zoom)
    return x0, x1, y0, y1
