"""Patients' data: consent, who saw what, a person's rights (export, erasure), retention."""
