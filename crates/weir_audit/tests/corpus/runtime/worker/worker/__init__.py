"""Background worker: consumes jobs from Redis and runs them on one event loop."""
