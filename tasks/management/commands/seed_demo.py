"""Demo data for local development: a user with a random password, a project, tasks, comments."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from project.oauth.clients import VITE_DEV_REDIRECT_URI, ClientError, ensure_demo_client
from tasks import services
from tasks.models import Project, Role, Task

DEFAULT_ORIGIN = "http://127.0.0.1:8000"
# Bound to every interface: a browser on this machine reaches it through either loopback name.
WILDCARD_HOSTS = {"0.0.0.0", "::"}  # noqa: S104 - names compared, nothing bound here


def app_redirect_uris(origins: list[str]) -> list[str]:
    """The web app's callback on each origin `make run` serves it on, as the app builds it
    (`${location.origin}/app/callback`), then the Vite dev server's."""
    uris: list[str] = []
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise CommandError(f"--origin must look like http://HOST:PORT, not {origin!r}")
        port = f":{parts.port}" if parts.port else ""
        hosts = ["127.0.0.1", "localhost"] if parts.hostname in WILDCARD_HOSTS else [parts.netloc]
        uris += [
            f"{parts.scheme}://{host}{port if host != parts.netloc else ''}/app/callback"
            for host in hosts
        ]
    return list(dict.fromkeys([*uris, VITE_DEV_REDIRECT_URI]))


class Command(BaseCommand):
    help = "Create demo users, a project, tasks and comments (development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument(
            "--origin",
            action="append",
            help="An origin the web app is served on (repeatable), e.g. http://127.0.0.1:8011: "
            "its /app/callback becomes a redirect URI of the demo OAuth client. `make run` "
            "passes http://$HOST:$PORT. Default: http://127.0.0.1:8000.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates a user with a known name; it runs only with DEBUG on."
            )
        username = options["username"]
        redirect_uris = app_redirect_uris(options["origin"] or [DEFAULT_ORIGIN])
        User = get_user_model()
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user, _ = User.objects.get_or_create(
                username=username, defaults={"first_name": "Demo", "last_name": "User"}
            )
            user.set_password(password)
            user.save()
            teammate, _ = User.objects.get_or_create(
                username=f"{username}-teammate",
                defaults={"first_name": "Team", "last_name": "Mate"},
            )
            if not Project.objects.filter(created_by=user, name="Demo project").exists():
                self._create_project(user, teammate)
            try:
                frontend_client_id = ensure_demo_client(user, redirect_uris)
            except ClientError as exc:
                raise CommandError(f"--origin: {exc}") from exc
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  username: {username}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write(f"  OAuth client id (public, PKCE S256): {frontend_client_id}")
        self.stdout.write(f"    redirect URIs: {' '.join(redirect_uris)}")
        for hook in getattr(self, "extra_output", []):
            self.stdout.write(hook)

    def _create_project(self, user: Any, teammate: Any) -> None:
        project = services.project_create(
            actor=user, name="Demo project", description="A project to try the API with."
        )
        services.member_add(
            actor=user,
            project_id=project.pk,
            username=teammate.username,
            role=Role.MEMBER,
            consented=True,  # the operator running this command created both demo users
        )
        today = timezone.localdate()
        samples = [
            ("Write the onboarding guide", Task.Status.IN_PROGRESS, Task.Priority.HIGH, 3),
            ("Fix the login redirect", Task.Status.TODO, Task.Priority.URGENT, 1),
            ("Plan the next release", Task.Status.TODO, Task.Priority.MEDIUM, 14),
            ("Update dependencies", Task.Status.DONE, Task.Priority.LOW, None),
            ("Design the task board", Task.Status.TODO, Task.Priority.MEDIUM, None),
        ]
        for index, (title, status, priority, due_in) in enumerate(samples):
            task = services.task_create(
                actor=user,
                project_id=project.pk,
                title=title,
                description=f"{title}: details to be discussed.",
                status=status,
                priority=priority,
                due_date=today + timedelta(days=due_in) if due_in is not None else None,
                assignee_id=(user.pk if index % 2 == 0 else teammate.pk),
            )
            services.comment_add(actor=teammate, task_id=task.pk, body="I can help with this.")
            services.comment_add(actor=user, task_id=task.pk, body="Thanks, let's pair on it.")
