"""The "Moderators" group: comment moderators, who may moderate comments and nothing else.

Wagtail's own initial data already made a "Moderators" group for page moderation: add, edit and
publish on every page, images, documents, and the reviewer of the default "Moderators approval"
workflow task. In a newsroom those people review stories, so that group keeps all of it under
the name "Page reviewers", and a new "Moderators" group gets exactly admin access,
viewing/changing/moderating comments and managing blocked terms.
"""

from django.db import migrations

COMMENT_PERMISSIONS = [
    ("comment", "view_comment", "Can view comment"),
    ("comment", "change_comment", "Can change comment"),
    ("comment", "moderate_comment", "Can moderate comments"),
    ("blockedterm", "add_blockedterm", "Can add blocked term"),
    ("blockedterm", "change_blockedterm", "Can change blocked term"),
    ("blockedterm", "delete_blockedterm", "Can delete blocked term"),
    ("blockedterm", "view_blockedterm", "Can view blocked term"),
]


def comment_permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    # On a fresh database content types and permissions are only made after every migration
    # (post_migrate), so make the ones needed here; post_migrate then finds them in place.
    permissions = []
    for model, codename, name in COMMENT_PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label="comments", model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        permissions.append(permission)
    return permissions


def make_moderators_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    GroupSitePermission = apps.get_model("wagtailcore", "GroupSitePermission")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    admin_type, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access_admin, _ = Permission.objects.get_or_create(
        content_type=admin_type, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )

    wagtail_moderators = Group.objects.filter(name="Moderators").first()
    if wagtail_moderators is not None and (
        GroupPagePermission.objects.filter(group=wagtail_moderators).exists()
        or GroupApprovalTask.objects.filter(groups=wagtail_moderators).exists()
    ):
        wagtail_moderators.name = "Page reviewers"
        wagtail_moderators.save()

    group, _ = Group.objects.get_or_create(name="Moderators")
    # Nothing about pages, images, documents, users or settings.
    GroupPagePermission.objects.filter(group=group).delete()
    GroupCollectionPermission.objects.filter(group=group).delete()
    GroupSitePermission.objects.filter(group=group).delete()
    for task in GroupApprovalTask.objects.filter(groups=group):
        task.groups.remove(group)
    group.permissions.set([access_admin, *comment_permissions(apps)])


def remove_moderators_group(apps, schema_editor):
    """Drop the comment moderators and give Wagtail's page moderators their name back."""
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="Moderators").delete()
    Group.objects.filter(name="Page reviewers").update(name="Moderators")


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        # Every Wagtail migration that gives the "Moderators" group permissions runs first.
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [migrations.RunPython(make_moderators_group, remove_moderators_group)]
