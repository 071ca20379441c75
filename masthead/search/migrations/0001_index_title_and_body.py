"""A GIN index on `title || body` of Wagtail's search index table (PostgreSQL only).

Wagtail indexes the two tsvectors separately; a query that must find all its words anywhere in
an article matches their concatenation, which only an index on that expression can serve.
On SQLite, Wagtail's FTS5 table already covers both columns.
"""

from django.db import migrations

INDEX_NAME = "masthead_search_title_body_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON wagtailsearch_indexentry USING gin ((title || body))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("wagtailsearch", "0010_add_text_fields")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
