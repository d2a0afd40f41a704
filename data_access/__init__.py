"""Data layer: models, engine and sessions, migrations, queries, importers, demo data."""
