"""jobs-service: HTTP API and background worker for long-running jobs."""

__version__ = "0.4.2"
