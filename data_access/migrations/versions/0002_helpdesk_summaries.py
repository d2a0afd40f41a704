"""help-desk summary tables (speed at scale)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:30:00

Filled by data_access.summaries.rebuild, which every demo load and import calls; a database
upgraded to this revision gets them filled on its next data change (or by
`python -m data_access.summaries`). Until then queries read the fact table, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_CELL = ("sector_code", "country_code", "requester_type", "topic", "desk")


# SQLite stores each table in its primary-key order (WITHOUT ROWID): the key is the index
# every query reads, and a read needs no second lookup.


def _cell_columns() -> list[sa.Column]:
    return [sa.Column('cuboid', sa.SmallInteger(), nullable=False),
            sa.Column('sector_code', sa.String(length=32), nullable=False),
            sa.Column('country_code', sa.String(length=2), nullable=False),
            sa.Column('requester_type', sa.String(length=16), nullable=False),
            sa.Column('topic', sa.String(length=32), nullable=False),
            sa.Column('desk', sa.String(length=16), nullable=False),
            sa.Column('ym', sa.Integer(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'helpdesk_summary', *_cell_columns(),
        sa.Column('enquiries', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('cuboid', *_CELL, 'ym'), sqlite_with_rowid=False)
    op.create_table(
        'helpdesk_days_summary', *_cell_columns(),
        sa.Column('enquiries', sa.Integer(), nullable=False),
        sa.Column('histogram', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('cuboid', *_CELL, 'ym'), sqlite_with_rowid=False)
    op.create_table(
        'helpdesk_daily_summary',
        sa.Column('received_date', sa.Date(), nullable=False),
        sa.Column('sector_code', sa.String(length=32), nullable=False),
        sa.Column('topic', sa.String(length=32), nullable=False),
        sa.Column('desk', sa.String(length=16), nullable=False),
        sa.Column('enquiries', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('received_date', 'sector_code', 'topic', 'desk'),
        sqlite_with_rowid=False)
    op.create_table(
        'helpdesk_daily_days_summary',
        sa.Column('received_date', sa.Date(), nullable=False),
        sa.Column('sector_code', sa.String(length=32), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('enquiries', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('received_date', 'sector_code', 'days'), sqlite_with_rowid=False)


def downgrade() -> None:
    op.drop_table('helpdesk_daily_days_summary')
    op.drop_table('helpdesk_daily_summary')
    op.drop_table('helpdesk_days_summary')
    op.drop_table('helpdesk_summary')
