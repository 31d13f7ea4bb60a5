from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The cross-transport edge (the principal, its caches) as an app, so its signal receivers
    are connected once the models are ready."""

    name = "project"
    verbose_name = "TaskHub edge"

    def ready(self) -> None:
        from django.core import checks

        from .loop_middleware import check_security_middleware
        from .token_lookup import connect_signals

        checks.register(check_security_middleware, checks.Tags.security, deploy=True)

        connect_signals()
