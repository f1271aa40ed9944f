"""patients' data: consent, access records, erasure, retention

Per-purpose consent (lead_consent), who read which leads (access_record, access_record_lead),
erasure requests and the HMACs of erased Meta lead ids, anonymised leads, retention runs; the
form's privacy policy URL on each lead and the retention setting of each distributor.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadhub.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "lead_consent",
    "erased_meta_lead",
    "anonymised_lead",
    "access_record_lead",
    "erasure_request",
    "access_record",
    "retention_run",
)


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("cutoff", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("anonymised", sa.Integer(), nullable=False),
        sa.Column("started_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributor.id"],
            name=op.f("fk_retention_run_distributor_id_distributor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_run")),
    )
    with op.batch_alter_table("retention_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_retention_run_distributor", ["distributor_id", "started_at"], unique=False
        )

    op.create_table(
        "access_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "view",
                "api_read",
                "export",
                "person_export",
                name="accesskind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.Column("at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_access_record_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_record")),
    )
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        batch_op.create_index("ix_access_record_at", ["at"], unique=False)

    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "done", "rejected", name="erasurestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "lead_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=120), nullable=True),
        sa.Column("requested_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=120), nullable=True),
        sa.Column("decided_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.create_index("ix_erasure_request_status", ["status", "requested_at"], unique=False)

    op.create_table(
        "access_record_lead",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", "record_id", name=op.f("pk_access_record_lead")),
    )
    op.create_table(
        "anonymised_lead",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column(
            "cause",
            sa.Enum("erasure", "retention", name="anonymisedcause", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("erasure_request_id", sa.Integer(), nullable=True),
        sa.Column("at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_request_id"],
            ["erasure_request.id"],
            name=op.f("fk_anonymised_lead_erasure_request_id_erasure_request"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
            name=op.f("fk_anonymised_lead_lead_id_lead"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_anonymised_lead")),
    )
    op.create_table(
        "erased_meta_lead",
        sa.Column("lead_hash", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
            name=op.f("fk_erased_meta_lead_lead_id_lead"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("lead_hash", name=op.f("pk_erased_meta_lead")),
    )
    op.create_table(
        "lead_consent",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "phone",
                "whatsapp",
                "email",
                "marketing",
                name="purpose",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "lead_form",
                "phone_call",
                "email",
                "whatsapp",
                "in_person",
                "written",
                name="consentsource",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("given_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_name", sa.String(length=120), nullable=True),
        sa.Column("recorded_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_lead_consent_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_lead_consent_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("lead_id", "purpose", name=op.f("pk_lead_consent")),
    )

    with op.batch_alter_table("distributor") as batch_op:
        batch_op.add_column(sa.Column("retention_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("lead") as batch_op:
        batch_op.add_column(sa.Column("privacy_policy_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch_op:
        batch_op.drop_column("privacy_policy_url")
    with op.batch_alter_table("distributor") as batch_op:
        batch_op.drop_column("retention_months")
    for table in TABLES:
        op.drop_table(table)
