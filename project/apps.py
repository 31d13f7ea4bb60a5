from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The cross-transport edge (the principal, its caches) as an app, so its signal receivers
    are connected once the models are ready."""

    name = "project"
    verbose_name = "TaskHub edge"

    def ready(self) -> None:
        from .token_lookup import connect_signals

        connect_signals()
