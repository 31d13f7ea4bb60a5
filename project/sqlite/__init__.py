"""Django's SQLite backend with a per-process pool of open connections (see `base`)."""
