"""The HTTP service: a FastAPI app over the summarise pipeline, with a job queue and store."""
