"""The long-running service: operations the edges call, scheduled jobs, the scheduler, health and metrics."""
