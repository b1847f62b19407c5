"""Delayed transfers: arrival options, the arrival job, cancelling before arrival."""
