"""Our own stored files in an S3-compatible bucket (`serve --storage-url s3://…`), through the real
stack on moto in server mode: uploads land in the bucket and nowhere under data/files, the worker
probes its copy and puts fetched media there, Files and Jobs downloads 302 to presigned URLs,
store customer links are served through nginx's internal /_s3/ proxy (Range too) and counted, the
CLI uploads there too, delete removes the object, and a store URL without keys is refused at start. (moto does not check
signatures; the signer is checked against botocore in BucketsIntegrationTests.)"""
import os
import subprocess
import urllib.parse as urlparse

import pytest
import requests

from conftest import (FETCHGATE, HTTP_TIMEOUT, SHOP_FILES, child_text, fetch, guid_of, order_item_of, running_server,
                      stock_shop)
from support.fetch import fetch_serve_options
from test_jobs_api import JobsClient
from test_jobs_buckets import BUCKET, Moto

ACCESS_KEY, SECRET_KEY = "AKIAFETCHGATEOWN0001", "own-storage-secret-0123456789abcdefWXYZ"
PREFIX = "stored"


@pytest.fixture(scope="module")
def moto():
    m = Moto()
    m.start()
    yield m
    m.stop()


def storage_options(moto, tmp_path_factory):
    credentials = tmp_path_factory.mktemp("storage-keys") / "s3.credentials"
    credentials.write_text(f"# the operator's bucket\nkey={ACCESS_KEY}\nsecret={SECRET_KEY}\n")
    credentials.chmod(0o600)
    url = f"s3://{BUCKET}/{PREFIX}?endpoint=http://127.0.0.1:{moto.port}&region=us-east-1"
    return ["--storage-url", url, "--storage-credentials-file", str(credentials)]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory, moto):
    options = storage_options(moto, tmp_path_factory)
    with running_server(tmp_path_factory, "fetchgate-s3", fetch_serve_options() + options) as srv:
        srv.storage_options = options
        yield srv


def stored_files(srv):
    """Files under the data directory's files/ (the local store): none with a bucket store."""
    return sorted(str(p) for p in (srv.data_dir / "files").rglob("*") if p.is_file())


def test_a_files_upload_lands_in_the_bucket_is_probed_and_downloads_by_presigned_url(s3_server, moto, media):
    client = s3_server.create_files_tenant()
    f = client.upload("clip.mp4", media.mp4_bytes, "video/mp4")
    ready = client.wait(f["id"])
    # The probe ran on the worker's copy of the object (withLocalFile).
    assert ready["status"] == "ready", ready
    assert {s["type"] for s in ready["ffprobe"]["streams"]} == {"video", "audio"}, ready["ffprobe"]
    assert ready["ffprobe"]["size"] == len(media.mp4_bytes), ready["ffprobe"]
    keys = [k for k in moto.objects() if f["id"] in k]
    assert len(keys) == 1 and keys[0].startswith(PREFIX + "/m/"), moto.objects()
    assert stored_files(s3_server) == []
    assert [p for p in (s3_server.data_dir / "tmp").glob("s3-*")] == [], "the probe's copy is removed"

    location = client.signed_location(ready)
    parts = urlparse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == moto.base, location
    assert parts.path == f"/{BUCKET}/{keys[0]}", location
    query = dict(urlparse.parse_qsl(parts.query))
    assert query["response-content-type"] == "video/mp4", query
    assert query["response-content-disposition"] == 'attachment; filename="clip.mp4"', query
    assert query["X-Amz-Credential"].startswith(ACCESS_KEY + "/"), query
    r = requests.get(location, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert r.content == media.mp4_bytes
    assert r.headers["Content-Disposition"] == 'attachment; filename="clip.mp4"'

    r = client.delete(f"/files/{f['id']}")
    assert r.status_code == 200, r.text
    assert [k for k in moto.objects() if f["id"] in k] == []


def test_a_fetched_media_file_is_put_in_the_bucket_by_the_worker_and_deleted_from_it(s3_server, moto, media_origin):
    jobs = JobsClient(s3_server, s3_server.create_account().token)
    job = jobs.create(media_origin.mp4_url)
    done = jobs.wait(job["id"])
    assert done["status"] == "Completed", done
    keys = [k for k in moto.objects() if done["id"] in k]
    assert len(keys) == 1 and keys[0].startswith(PREFIX + "/"), moto.objects()
    assert stored_files(s3_server) == []
    r = jobs.get(urlparse.urlsplit(done["download_url"]).path)
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"].startswith(f"{moto.base}/{BUCKET}/{keys[0]}?"), r.headers
    got = requests.get(r.headers["Location"], timeout=HTTP_TIMEOUT)
    assert got.status_code == 200 and got.content == media_origin.files.mp4_bytes
    r = jobs.delete(f"/jobs/{done['id']}/file")
    assert r.status_code == 200, r.text
    assert [k for k in moto.objects() if done["id"] in k] == []


def test_a_customer_link_is_served_through_nginx_from_the_bucket_with_range_and_counted(s3_server, moto):
    shop = stock_shop(s3_server.create_account())
    assert stored_files(s3_server) == []
    order = shop.create_order(["A", "B"], send_email="false", email="customer@example.com")
    oid = child_text(order, "id")
    alpha_name, alpha, alpha_type = SHOP_FILES["A"]
    _, beta, _ = SHOP_FILES["B"]

    r = fetch(f"{s3_server.store_url}/get/{guid_of(order, 'A')}")
    assert r.status_code == 200, r.text[:300]
    assert r.content == alpha
    assert r.headers["Content-Type"].split(";")[0] == alpha_type
    assert r.headers["Content-Disposition"] == f'attachment; filename="{alpha_name}"'
    # The bucket never shows: no address of it, no provider headers, no entity tag of its own.
    assert sorted(h.lower() for h in r.headers) == ["accept-ranges", "cache-control", "connection", "content-disposition",
                                                     "content-length", "content-type", "date", "last-modified", "server"], r.headers
    assert r.headers["Cache-Control"] == "private, no-store"
    assert str(moto.port) not in str(r.headers), r.headers

    link_b = f"{s3_server.store_url}/get/{guid_of(order, 'B')}"
    r = fetch(link_b, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206, r.text[:300]
    assert r.content == beta[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(beta)}"
    # A client's Authorization is not passed on to the bucket (the presigned query is the only signature).
    r = fetch(link_b, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 200 and r.content == beta

    items = {sku: order_item_of(shop.order(oid), sku) for sku in ("A", "B")}
    assert int(child_text(items["A"], "download_count")) == 1
    assert int(child_text(items["B"], "download_count")) == 2


def test_the_cli_upload_goes_to_the_bucket(s3_server, moto, tmp_path):
    shop = s3_server.create_account()
    path = tmp_path / "cli.bin"
    path.write_bytes(b"uploaded by the admin CLI\n" * 100)
    before = set(moto.objects())
    r = s3_server.cli("upload", "--key", shop.key, str(path), "--name", "cli.bin", *s3_server.storage_options)
    added = sorted(set(moto.objects()) - before)
    assert len(added) == 1 and added[0].startswith(PREFIX + "/"), (added, r.stdout)
    # Its item's permalink serves it from the bucket (moto refuses unsigned GETs of objects).
    item = shop.create_item("CLI", name="CLI upload", extra="<filename>cli.bin</filename>")
    r = fetch(s3_server.store_url + child_text(item, "permalink"))
    assert r.status_code == 200 and r.content == path.read_bytes(), r.text[:300]
    # Without the options, the CLI puts files where `serve` last kept them (the run directory says).
    before = set(moto.objects())
    s3_server.cli("upload", "--key", shop.key, str(path), "--name", "again.bin")
    assert len(set(moto.objects()) - before) == 1
    assert stored_files(s3_server) == []


def test_serve_refuses_a_bucket_store_without_keys(tmp_path, moto):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    url = f"s3://{BUCKET}/{PREFIX}?endpoint=http://127.0.0.1:{moto.port}"
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), "--storage-url", url,
                        "--store-port", "1", "--media-port", "2"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "AWS_ACCESS_KEY_ID" in r.stderr, r.stderr
    loose = tmp_path / "loose.credentials"
    loose.write_text(f"key={ACCESS_KEY}\nsecret={SECRET_KEY}\n")
    loose.chmod(0o644)
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), "--storage-url", url,
                        "--storage-credentials-file", str(loose), "--store-port", "1", "--media-port", "2"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "readable by others" in r.stderr, r.stderr


def test_a_head_takes_nothing_and_an_object_gone_from_the_bucket_shows_no_bucket_document(s3_server, moto):
    import boto3
    shop = s3_server.create_account()
    shop.upload("gone.txt", b"soon gone\n", "text/plain")
    item = shop.create_item("G", name="Gone", extra="<filename>gone.txt</filename>")
    link = s3_server.store_url + child_text(item, "permalink")
    r = requests.head(link, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.headers["Content-Length"] == "10", r.headers
    assert child_text(shop.item("G"), "download_count") == "0"
    bucket = boto3.client("s3", endpoint_url=moto.base, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY)
    [key] = [k for k in moto.objects() if k.startswith(PREFIX + "/")
             and bucket.get_object(Bucket=BUCKET, Key=k)["Body"].read() == b"soon gone\n"]
    bucket.delete_object(Bucket=BUCKET, Key=key)
    # The bucket answers 403 for a missing key (as S3 does to a signer without ListBucket): the
    # client gets the store server's own 403 document, not the bucket's.
    r = fetch(link)
    assert r.status_code == 403, r.text[:300]
    assert r.text.strip().endswith("<message>Forbidden</message>"), r.text[:300]
    assert BUCKET not in r.text and "NoSuchKey" not in r.text, r.text[:300]
