"""The node's Alembic environment: env.py and one file per schema revision in versions/.
Run with `scn-node migrate` (Database.migrate); configured in code, no alembic.ini."""
