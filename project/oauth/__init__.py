"""The OAuth 2 authorization server: django-oauth-toolkit narrowed to the grants API.md allows."""
