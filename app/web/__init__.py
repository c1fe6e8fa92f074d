"""Web plumbing shared by every blueprint: guards, htmx rendering, errors, filters."""
