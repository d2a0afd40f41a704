"""technology-offer summary (speed at scale)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:10:00

Filled by data_access.summaries.rebuild with the help-desk summaries.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tech_offer_summary',
        sa.Column('event', sa.String(length=9), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('sector_code', sa.String(length=32), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('offers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('event', 'kind', 'sector_code', 'year'),
        sqlite_with_rowid=False)


def downgrade() -> None:
    op.drop_table('tech_offer_summary')
