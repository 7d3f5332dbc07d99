"""The Query API: compile a topic query for its connection, run it, cache it, record it."""
