"""Connections: the warehouses a model is compiled for and queries run against."""
