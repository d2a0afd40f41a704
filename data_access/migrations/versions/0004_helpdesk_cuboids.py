"""help-desk summaries as packed cuboids (speed at scale: a rebuild from 5M rows in seconds)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:00:00

The count and days-to-answer summary tables held one row per cell and month (1.4M and 0.9M
rows at 5M enquiries): writing them was most of a rebuild. Each cuboid is now one row per
year of packed arrays (data_access.summaries), which every process reads into memory. The
start-up check finds the summaries stale (their status names the new layout) and rebuilds.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _cell_columns() -> list[sa.Column]:
    return [sa.Column('cuboid', sa.SmallInteger(), nullable=False),
            sa.Column('sector_code', sa.String(length=32), nullable=False),
            sa.Column('country_code', sa.String(length=2), nullable=False),
            sa.Column('requester_type', sa.String(length=16), nullable=False),
            sa.Column('topic', sa.String(length=32), nullable=False),
            sa.Column('desk', sa.String(length=16), nullable=False),
            sa.Column('ym', sa.Integer(), nullable=False),
            sa.Column('enquiries', sa.Integer(), nullable=False)]


_KEY = ('cuboid', 'sector_code', 'country_code', 'requester_type', 'topic', 'desk', 'ym')


def upgrade() -> None:
    op.create_table(
        'helpdesk_cuboid',
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('cuboid', sa.SmallInteger(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'cuboid', 'year'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE helpdesk_cuboid ALTER COLUMN data SET STORAGE EXTERNAL")
    op.drop_table('helpdesk_days_summary')
    op.drop_table('helpdesk_summary')
    op.execute("DELETE FROM app_meta WHERE key = 'helpdesk_summary'")


def downgrade() -> None:
    op.create_table('helpdesk_summary', *_cell_columns(), sa.PrimaryKeyConstraint(*_KEY),
                    sqlite_with_rowid=False)
    op.create_table('helpdesk_days_summary', *_cell_columns(),
                    sa.Column('histogram', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint(*_KEY), sqlite_with_rowid=False)
    op.drop_table('helpdesk_cuboid')
    op.execute("DELETE FROM app_meta WHERE key = 'helpdesk_summary'")
