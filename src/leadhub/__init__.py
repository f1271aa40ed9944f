"""LeadHub: the lead desk of a medical-tourism clinic network."""
