"""Users, groups, user attributes and roles."""
