"""One file per schema revision, oldest first (Alembic orders them by down_revision)."""
