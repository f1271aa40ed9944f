"""Running LeadHub: health checks (doctor), API limits, structured logs, key rotation, docs."""
