from django.urls import path

from masthead import converters  # noqa: F401 (registers <id:...>)

from . import views

app_name = "comments"

urlpatterns = [
    path("comments/ticket/<id:article_id>/", views.ticket, name="ticket"),
    path("comments/post/<id:article_id>/", views.post_comment, name="post"),
    path("comments/posted/<str:token>/", views.posted, name="posted"),
    path("comments/reply/<id:comment_id>/", views.reply, name="reply"),
    path("comments/delete/<str:token>/", views.delete, name="delete"),
    path("comments/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
