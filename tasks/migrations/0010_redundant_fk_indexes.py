"""Foreign keys that lead a composite index or unique constraint lose their own index: the
composite serves their lookups, and the second index only costs a write per row (measured on
PostgreSQL: WAL per task update 3,580 -> 3,380 bytes with four of them gone; bench/PROFILES.md,
eleventh pass). `task_assignee_idx` duplicated the assignee foreign key's own index.

The indexes are dropped by name, found by introspection (Django's generated names), not by
`AlterField`: on PostgreSQL `AlterField` drops and re-adds the foreign key constraint, and
re-adding it validates every row under a lock that blocks writes, on tables as large as the
event log. On SQLite `AlterField` would also rebuild each table. The state still records
`db_index=False`."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, foreign key) whose single-column index goes.
COVERED = [
    ("attachment", "task"),  # attachment_task_idx (task, uploaded_at)
    ("comment", "task"),  # comment_task_created_idx (task, created_at)
    ("event", "project"),  # event_project_seq_unique, event_project_id_idx
    ("membership", "project"),  # membership_unique_user (project, user)
    ("membership", "user"),  # membership_user_idx (user, project)
    ("task", "project"),  # task_project_status_idx and two more
    ("webhook", "project"),  # webhook_project_active_idx (project, active)
    ("webhookdelivery", "webhook"),  # delivery_webhook_idx (webhook, -id)
]


def _own_indexes(schema_editor, model, column):
    """The plain indexes on exactly `column`, other than the model's declared ones."""
    connection = schema_editor.connection
    declared = {index.name for index in model._meta.indexes}
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and name not in declared
    ]


def drop_covered_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for model_name, field_name in COVERED:
        model = apps.get_model("tasks", model_name)
        column = model._meta.get_field(field_name).column
        for name in _own_indexes(schema_editor, model, column):
            schema_editor.execute(f"DROP INDEX {quote(name)}")


def restore_covered_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for model_name, field_name in COVERED:
        model = apps.get_model("tasks", model_name)
        column = model._meta.get_field(field_name).column
        if not _own_indexes(schema_editor, model, column):
            table = model._meta.db_table
            name = f"{table}_{column}_fk_idx"
            schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0009_event_xact_id_default"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="task", name="task_assignee_idx"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(drop_covered_indexes, restore_covered_indexes),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="attachment",
                    name="task",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachments",
                        to="tasks.task",
                    ),
                ),
                migrations.AlterField(
                    model_name="comment",
                    name="task",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="tasks.task",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tasks.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="membership",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="tasks.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="membership",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="task",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="tasks.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhook",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhooks",
                        to="tasks.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="webhook",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="tasks.webhook",
                    ),
                ),
            ],
        ),
    ]
