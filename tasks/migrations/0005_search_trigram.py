"""Search by substring on every backend (tasks.search): a folded `search_text` column, filled for
existing tasks; on PostgreSQL a pg_trgm GIN index on it replaces the English full-text index of
0002 (which could not match `PROJ-123`, `runn` or part of a hex id)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

import tasks.search

TRIGRAM_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS task_search_trgm_idx ON tasks_task "
    "USING GIN (search_text gin_trgm_ops)"
)
# 0002's index, as 0002 made it, for going back.
OLD_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS task_search_gin_idx ON tasks_task USING GIN ("
    "to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(description, '')))"
)
BATCH = 1000


def fill_search_text(apps, schema_editor):
    manager = apps.get_model("tasks", "Task").objects.db_manager(schema_editor.connection.alias)
    batch = []
    rows = manager.only("id", "title", "description").order_by("id")
    for task in rows.iterator(chunk_size=BATCH):
        task.search_text = tasks.search.document(task.title, task.description)
        batch.append(task)
        if len(batch) == BATCH:
            manager.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        manager.bulk_update(batch, ["search_text"])


def swap_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_search_gin_idx")
        schema_editor.execute(TRIGRAM_INDEX_SQL)


def restore_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_search_trgm_idx")
        schema_editor.execute(OLD_INDEX_SQL)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0004_display_text_validators")]

    operations = [
        # CreateExtension does nothing on databases other than PostgreSQL.
        TrigramExtension(),
        migrations.AddField(
            model_name="task",
            name="search_text",
            field=tasks.search.SearchDocumentField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(swap_indexes, restore_indexes),
    ]
