"""Fails when the committed `schema.graphql` differs from the served schema.

`make schema` rewrites the file."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from graphql import print_schema

from graph.schema import schema


class Command(BaseCommand):
    help = "Check that schema.graphql equals the served GraphQL schema."

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "schema.graphql"
        served = print_schema(schema.graphql_schema).strip()
        committed = path.read_text().strip() if path.exists() else ""
        if served != committed:
            raise CommandError("schema.graphql is out of date: run `make schema` and commit it.")
        self.stdout.write("schema.graphql is up to date.")
