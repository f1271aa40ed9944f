"""Lead scoring: the engine, its versioned rules, the dashboard, and the jobs that rescore."""
