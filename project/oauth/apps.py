from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "project.oauth"
    label = "taskhub_oauth"
    verbose_name = "OAuth authorization server"
    default_auto_field = "django.db.models.BigAutoField"
