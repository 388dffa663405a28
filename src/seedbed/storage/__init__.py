"""Storage: SQLAlchemy tables and repositories, one code path for SQLite and PostgreSQL."""
