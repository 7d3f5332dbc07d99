"""HTTP layer: app factory, dependencies, error mapping, pagination, middleware."""
