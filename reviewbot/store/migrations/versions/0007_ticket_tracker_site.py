"""ticket tracker site: which site and project of its tracker holds a ticket's issue, so that moving a workspace
to another Jira site or project refiles its tickets instead of sending their keys to the new one

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: filed before this revision; the next sync records the configured site (the tickets' own until then)
    with op.batch_alter_table("review_ticket") as batch:
        batch.add_column(sa.Column("tracker_site", sqlmodel.sql.sqltypes.AutoString(length=1100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_ticket") as batch:
        batch.drop_column("tracker_site")
