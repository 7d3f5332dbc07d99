"""One module per API area; each area is a thin class over `base`."""
