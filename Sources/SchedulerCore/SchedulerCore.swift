// The SchedulerCore module: see its issue.
