"""ticket announced: the headline figures a ticket's tracker was last told, so that a sync comments only on a
material change and refreshes the rest quietly

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: the ticket's stored evidence is what was last announced (every change was, before this revision)
    with op.batch_alter_table("review_ticket") as batch:
        batch.add_column(sa.Column("announced", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_ticket") as batch:
        batch.drop_column("announced")
