"""Background worker and the progress LISTEN loop."""
