"""Assignment rules: who gets a new lead of a distributor, applied on intake."""
