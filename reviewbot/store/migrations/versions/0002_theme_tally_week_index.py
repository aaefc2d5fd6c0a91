"""theme tally and week index: a sync into a long history adds its new members to each theme's stored sums,
and reads the latest week from an index, instead of passing over every item

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: counted from the items at the next refresh (existing themes need no backfill)
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("tally", sa.JSON(), nullable=True))
    with op.batch_alter_table("feedback_item") as batch:
        batch.create_index(batch.f("ix_feedback_item_week"), ["week"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_item") as batch:
        batch.drop_index(batch.f("ix_feedback_item_week"))
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("tally")
