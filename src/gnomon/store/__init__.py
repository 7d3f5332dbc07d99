"""Metadata store: tables, engine/session handling and migrations."""
