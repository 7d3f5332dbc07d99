"""Organizations (tenants) and the platform API that manages them."""
