"""Analytics: read-only SQL over leads and interactions, the /analytics page and reports."""
