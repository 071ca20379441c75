"""Store the HTML of the comments already there (Comment.body_html), a thousand per
transaction: pages render any comment without it as they read it, and 0003's database defaults
let the previous release go on posting, so this may run while the site serves; it never holds
the table for long."""

from django.db import migrations

from masthead.comments.models import store_html


def store_existing(apps, schema_editor):
    store_html(apps.get_model("comments", "Comment"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("comments", "0003_comment_body_html")]

    operations = [migrations.RunPython(store_existing, migrations.RunPython.noop)]
