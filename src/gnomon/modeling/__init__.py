"""Model management: the org's models, their immutable versions, validation and restore."""
