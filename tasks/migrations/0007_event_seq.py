"""Per-project event sequence numbers (Event.seq) and the log head (ProjectLog).

Existing events are numbered 1, 2, 3... per project in id order, and each project's log row is set
to its last number, so the first event recorded after this migration continues the sequence.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def number_existing_events(apps, schema_editor):
    Event = apps.get_model("tasks", "Event")
    ProjectLog = apps.get_model("tasks", "ProjectLog")
    project_ids = Event.objects.values_list("project_id", flat=True).distinct().order_by()
    for project_id in list(project_ids):
        seq = 0
        pending = []
        for event in Event.objects.filter(project_id=project_id).order_by("id").only("id"):
            seq += 1
            event.seq = seq
            pending.append(event)
            if len(pending) >= BATCH:
                Event.objects.bulk_update(pending, ["seq"])
                pending = []
        Event.objects.bulk_update(pending, ["seq"])
        ProjectLog.objects.create(project_id=project_id, last_seq=seq, pruned_seq=0)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0006_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectLog",
            fields=[
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="log",
                        serialize=False,
                        to="tasks.project",
                    ),
                ),
                ("last_seq", models.PositiveBigIntegerField(default=0)),
                ("pruned_seq", models.PositiveBigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.RunPython(number_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("project", "seq"), name="event_project_seq_unique"
            ),
        ),
    ]
