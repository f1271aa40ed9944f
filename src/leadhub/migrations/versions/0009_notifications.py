"""notifications: outbox, in-app notifications, preferences

Every email is a row of `notification_outbox` (unique per event, so nothing is sent twice); the
bell reads `notification`; `notification_pref` holds a user's choices (language and time zone stay
on the user), `notification_distributor_setting` a distributor's thresholds and defaults, and
`lead_watcher` who follows a lead.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadhub.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_distributor_setting",
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("speed_to_lead_minutes", sa.Integer(), nullable=False),
        sa.Column("score_threshold", sa.Integer(), nullable=False),
        sa.Column(
            "default_kinds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributor.id"],
            name=op.f("fk_notification_distributor_setting_distributor_id_distributor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("distributor_id", name=op.f("pk_notification_distributor_setting")),
    )
    op.create_table(
        "notification_pref",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kinds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("summary_hour", sa.Integer(), nullable=False),
        sa.Column("updated_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_pref_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_pref")),
    )
    op.create_table(
        "lead_watcher",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_lead_watcher_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_lead_watcher_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", "user_id", name=op.f("pk_lead_watcher")),
    )
    op.create_index(op.f("ix_lead_watcher_user_id"), "lead_watcher", ["user_id"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hot_lead",
                "assigned",
                "status_changed",
                "speed_to_lead",
                "meta_reauth",
                "webhook_failures",
                "daily_summary",
                "report",
                "digest",
                name="kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("read_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_notification_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("event_key", name=op.f("uq_notification_event_key")),
    )
    op.create_index(op.f("ix_notification_lead_id"), "notification", ["lead_id"], unique=False)
    op.create_index("ix_notification_user_id", "notification", ["user_id", "id"], unique=False)
    op.create_index(
        "ix_notification_user_unread", "notification", ["user_id", "read_at", "id"], unique=False
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hot_lead",
                "assigned",
                "status_changed",
                "speed_to_lead",
                "meta_reauth",
                "webhook_failures",
                "daily_summary",
                "report",
                "digest",
                name="kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                "held",
                "folded",
                name="outboxstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["notification_outbox.id"],
            name=op.f("fk_notification_outbox_digest_id_notification_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
            name=op.f("fk_notification_outbox_lead_id_lead"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["user_account.id"],
            name=op.f("fk_notification_outbox_recipient_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("event_key", name=op.f("uq_notification_outbox_event_key")),
    )
    op.create_index(
        op.f("ix_notification_outbox_digest_id"), "notification_outbox", ["digest_id"], unique=False
    )
    op.create_index(
        "ix_notification_outbox_due",
        "notification_outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notification_outbox_lead_id"), "notification_outbox", ["lead_id"], unique=False
    )
    op.create_index(
        "ix_notification_outbox_recipient_created",
        "notification_outbox",
        ["recipient_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_notification_outbox_status_id", "notification_outbox", ["status", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_status_id", table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_recipient_created", table_name="notification_outbox")
    op.drop_index(op.f("ix_notification_outbox_lead_id"), table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_due", table_name="notification_outbox")
    op.drop_index(op.f("ix_notification_outbox_digest_id"), table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_index("ix_notification_user_unread", table_name="notification")
    op.drop_index("ix_notification_user_id", table_name="notification")
    op.drop_index(op.f("ix_notification_lead_id"), table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_lead_watcher_user_id"), table_name="lead_watcher")
    op.drop_table("lead_watcher")
    op.drop_table("notification_pref")
    op.drop_table("notification_distributor_setting")
