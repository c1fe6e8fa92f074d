"""One blueprint per area of the office."""
