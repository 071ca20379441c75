"""Replace Wagtail's "Welcome" page with the home front, so a fresh install is a news site."""

from django.conf import settings
from django.db import migrations


def create_home_front(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("news.HomePage")
    Locale = apps.get_model("wagtailcore.Locale")

    if HomePage.objects.exists():
        return
    # Wagtail's first migration creates a placeholder page at depth 2.
    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()
    root = Page.objects.get(depth=1)
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="news")
    home = HomePage.objects.create(
        title=settings.WAGTAIL_SITE_NAME,
        draft_title=settings.WAGTAIL_SITE_NAME,
        slug="home",
        content_type=content_type,
        path=root.path + "0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=Locale.objects.first(),
        live=True,
    )
    root.numchild = 1
    root.save(update_fields=["numchild"])
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page_id": home.id, "site_name": settings.WAGTAIL_SITE_NAME},
    )


def remove_home_front(apps, schema_editor):
    apps.get_model("news.HomePage").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0001_initial"),
        ("wagtailcore", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_home_front, remove_home_front)]
