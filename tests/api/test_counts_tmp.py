from tests.api.test_api import *  # noqa
def test_print(client, pub):
    for u in [f"{API}/articles/?limit=100", f"{API}/articles/?limit=100&section=world&tag=gaza&author=ada-reporter", f"{API}/articles/{pub.world_story.pk}/", f"{API}/sections/", f"{API}/sections/{pub.world.pk}/", f"{API}/authors/", f"{API}/authors/ada-reporter/", f"{API}/tags/", f"{API}/tags/gaza/"]:
        print(u, queries_for(client, u))
