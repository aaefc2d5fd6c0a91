"""mapping corrections: owners' moves of tickets between sections, which the mapper learns from; each theme's
tally of its members' votes for sections, so a sync counts only its new members; and the section a ticket's
tracker issue last named, so a move made in the tracker is told from one not yet delivered there

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: counted from the theme's members at the next sync
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("section_votes", sa.JSON(), nullable=True))
    # NULL: not looked at yet; the first pull records what the tracker shows
    with op.batch_alter_table("review_ticket") as batch:
        batch.add_column(sa.Column("tracker_section", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
    op.create_table(
        "mapping_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("section_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("was_section", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("theme_size", sa.Integer(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["theme.id"], name=op.f("fk_mapping_correction_theme_id_theme")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["review_ticket.id"], name=op.f("fk_mapping_correction_ticket_id_review_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_correction")),
    )
    with op.batch_alter_table("mapping_correction") as batch:
        batch.create_index(batch.f("ix_mapping_correction_theme_id"), ["theme_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mapping_correction") as batch:
        batch.drop_index(batch.f("ix_mapping_correction_theme_id"))
    op.drop_table("mapping_correction")
    with op.batch_alter_table("review_ticket") as batch:
        batch.drop_column("tracker_section")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("section_votes")
