"""report_stats: the counts behind GET /stats/reports, kept on writes (models.report_stats)

Both tables are filled from the reports already there, as `rebuild_report_stats` counts
them (the SQL as of this revision): public reports that are not duplicates, per month of
`created_at` in Europe/Berlin.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

MONTH = {
    "postgresql": "to_char(timezone('Europe/Berlin', created_at), 'YYYY-MM')",
    # No time zones in SQLite: the end of a UTC month March … September lies in CEST (+2 h),
    # every other one in CET (+1 h), and no clock change comes within two hours of a month's end.
    "sqlite": "strftime('%Y-%m', substr(created_at, 1, 19), CASE WHEN substr(created_at, 6, 2) BETWEEN '03' AND '09' THEN '+2 hours' ELSE '+1 hours' END)",
}
ELAPSED = {
    "postgresql": "(CAST(floor(extract(epoch FROM resolved_at)) AS BIGINT) - CAST(floor(extract(epoch FROM created_at)) AS BIGINT))",
    "sqlite": "(CAST(strftime('%s', substr(resolved_at, 1, 19)) AS INTEGER) - CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER))",
}
TRUE = {"postgresql": "true", "sqlite": "1"}


def upgrade() -> None:
    op.create_table('report_resolve_times',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'district', 'kind', 'bucket', name=op.f('pk_report_resolve_times')),
    sqlite_with_rowid=False,
    )
    op.create_table('report_stats',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filed', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('helped', sa.Integer(), nullable=False),
    sa.Column('not_helped', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'district', 'category', 'kind', name=op.f('pk_report_stats')),
    sqlite_with_rowid=False,
    )
    fill(op.execute, op.get_bind().dialect.name)


def fill(execute, dialect: str) -> None:
    """Count the reports already there into the (empty) tables; tests run it on their own."""
    if dialect not in MONTH:  # pragma: no cover - the two databases this service runs on
        return
    month, elapsed = MONTH[dialect], ELAPSED[dialect]
    counted = f"is_public = {TRUE[dialect]} AND status <> 'duplicate'"
    execute(
        "INSERT INTO report_stats (month, district, category, kind, filed, resolved, helped, not_helped)"
        f" SELECT {month}, district, category, kind, COUNT(*), SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END),"
        f" SUM(helped_count), SUM(not_helped_count) FROM reports WHERE {counted}"
        f" GROUP BY {month}, district, category, kind"
    )
    bucket = f"CASE WHEN {elapsed} < 0 THEN 0 WHEN {elapsed} < 172800 THEN {elapsed} / 3600 ELSE {elapsed} / 86400 * 24 END"
    execute(
        "INSERT INTO report_resolve_times (month, district, kind, bucket, count)"
        " SELECT month, district, kind, bucket, COUNT(*) FROM"
        f" (SELECT {month} AS month, district, kind, {bucket} AS bucket FROM reports"
        f"  WHERE {counted} AND status = 'resolved' AND resolved_at IS NOT NULL) AS resolved"
        " GROUP BY month, district, kind, bucket"
    )


def downgrade() -> None:
    op.drop_table('report_stats')
    op.drop_table('report_resolve_times')
