"""`make bench`: load realistic data, time the desk through the real app, report."""
