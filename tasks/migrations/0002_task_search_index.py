"""Full-text search index on PostgreSQL. The expression must equal `selectors.SEARCH_VECTOR_SQL`."""

from django.db import migrations

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS task_search_gin_idx ON tasks_task USING GIN ("
    "to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(description, '')))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_search_gin_idx")


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
