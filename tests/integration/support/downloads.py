"""Where the JSON dialects' downloads lead (Files, Fetch, Jobs): a 302 to a short-lived link of
the stack's backend — nginx's signed /dl/ link for local files, the bucket's presigned URL for a
bucket store (support/backends.py `download_link`)."""
import urllib.parse as _urlparse


def assert_download_location(server, location, key):
    """`location` is the stack's link to storage key `key` ("f/<id>.mp4"); returns it split."""
    parts = _urlparse.urlsplit(location)
    origin, path = server.backend.download_link(key, server.media_url)
    assert (f"{parts.scheme}://{parts.netloc}", parts.path) == (origin, path), f"{location}: expected {origin}{path}?…"
    return parts
