"""The verbs of the office. Services flush, never commit: the view commits once per request."""
