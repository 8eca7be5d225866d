"""page grid of about 1.1 km instead of 280 m: a map box merges 4 cells instead of 25

models.geography's PAGE_CELL_LAT/LON became 0.01/0.016 degrees; every report's page_cell is
recomputed with the same double-precision operations (floor of (lat + 90) / 0.01, and so on),
so the stored cells agree with the cells a box query asks for.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:40:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

STRIDE = 100_000


def recompute_statement(dialect: str, cell_lat: float, cell_lon: float) -> str:
    """The UPDATE that files every report into the grid (tests/reports/test_box_pages.py runs it)."""
    if dialect == "postgresql":
        row, column = f"floor((lat + 90.0) / {cell_lat!r})::bigint", f"floor((lon + 180.0) / {cell_lon!r})::bigint"
    else:
        # SQLite truncates a positive double to an integer the way floor() does.
        row, column = f"CAST((lat + 90.0) / {cell_lat!r} AS INTEGER)", f"CAST((lon + 180.0) / {cell_lon!r} AS INTEGER)"
    return f"UPDATE reports SET page_cell = {row} * {STRIDE} + {column}"


def upgrade() -> None:
    op.execute(recompute_statement(op.get_bind().dialect.name, 0.01, 0.016))


def downgrade() -> None:
    op.execute(recompute_statement(op.get_bind().dialect.name, 0.0025, 0.004))
