"""A demo CPO: OCPI served from a CpoBackend (server.py), today's static behaviour (static.py)."""
