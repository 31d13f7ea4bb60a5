"""python manage.py create_oauth_client --name NAME --user USERNAME [--redirect-uri URI ...]
[--public] [--grant authorization-code|client-credentials] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from project.oauth.clients import AUTHORIZATION_CODE, GRANTS, ClientError, create_client


class Command(BaseCommand):
    help = (
        "Register an OAuth client and print its client id and secret. The secret is stored "
        "hashed and shown only now; public clients have none (null)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="shown on the consent page")
        parser.add_argument("--user", required=True, help="username of the owner")
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            dest="redirect_uris",
            help="exact redirect URI; repeat for several",
        )
        parser.add_argument("--public", action="store_true", help="no secret; PKCE only")
        parser.add_argument("--grant", choices=GRANTS, default=AUTHORIZATION_CODE)
        parser.add_argument("--json", action="store_true", help="one JSON object on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        try:
            client = create_client(
                name=options["name"],
                user=user,
                redirect_uris=options["redirect_uris"],
                public=options["public"],
                grant=options["grant"],
            )
        except ClientError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            payload = {"client_id": client.client_id, "client_secret": client.client_secret}
            self.stdout.write(json.dumps(payload))
            return
        kind = "public" if options["public"] else "confidential"
        self.stdout.write(
            self.style.SUCCESS(f"Created {kind} {options['grant']} client {options['name']!r}.")
        )
        self.stdout.write(f"client_id:     {client.client_id}")
        if client.client_secret is None:
            self.stdout.write("client_secret: (none: public client, use PKCE)")
        else:
            self.stdout.write(f"client_secret: {client.client_secret}")
            self.stdout.write("Store the secret now: it is kept hashed and cannot be shown again.")
