from . import messages  # noqa: F401  (registers the news messages)
