"""Proxied delivery (nginx /_s3/ → moto) against local disk (nginx /_files/ sendfile), through the
same nginx and the same store dialect: permalink downloads of 1 MiB and 100 MiB files, one curl
process per download (its start-up is in every figure), and moto's own presigned GET for its share.

    FETCHGATE_BIN=$PWD/.build/release .venv/bin/python bench/s3_delivery.py"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from support.server import Server
from support.store import child_text
from test_jobs_buckets import BUCKET, Moto

work = Path(tempfile.mkdtemp(prefix="s3bench-"))
sizes = {"1MiB": 1 << 20, "100MiB": 100 << 20}
files = {}
for name, size in sizes.items():
    p = work / f"{name}.bin"
    with open(p, "wb") as f:
        f.write(os.urandom(size))
    files[name] = p

def curl_loop(url, n):
    t = time.monotonic()
    for _ in range(n):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url], capture_output=True, text=True)
        assert r.stdout.startswith("200 "), r.stdout
    return (time.monotonic() - t) / n


def setup(srv, extra):
    shop = srv.create_account()
    links = {}
    for name, p in files.items():
        srv.cli("upload", "--key", shop.key, str(p), "--name", p.name, *extra)
        item = shop.create_item(name, name=name, extra=f"<filename>{p.name}</filename>")
        links[name] = srv.store_url + child_text(item, "permalink")
    return links


moto = Moto()
moto.start()
cred = work / "keys"
cred.write_text("key=AKIABENCH\nsecret=bench-secret\n")
cred.chmod(0o600)
s3 = ["--storage-url", f"s3://{BUCKET}/bench?endpoint=http://127.0.0.1:{moto.port}", "--storage-credentials-file", str(cred)]
for label, extra in [("local disk", []), ("s3 proxy (moto)", s3)]:
    d = work / label.replace(" ", "_").replace("(", "").replace(")", "")
    d.mkdir()
    srv = Server(d / "run", extra_args=extra)
    srv.start()
    try:
        links = setup(srv, extra)
        for name, n in [("1MiB", 50), ("100MiB", 5)]:
            curl_loop(links[name], 1)  # warm
            s = curl_loop(links[name], n)
            print(f"{label:18} {name:7} {s*1000:8.1f} ms/download  {sizes[name]/s/(1<<20):8.0f} MiB/s", flush=True)
        if extra:
            print("proxy temp files:", sorted(str(p) for p in (srv.run_dir / "nginx-temp").rglob("*") if p.is_file()))
            keys = [k for k in moto.objects() if k.startswith("bench/")]
            # Straight from moto (no nginx), the same objects: moto's own share.
            import boto3
            b = boto3.client("s3", endpoint_url=moto.base, region_name="us-east-1", aws_access_key_id="AKIABENCH", aws_secret_access_key="bench-secret")
            for name, n in [("1MiB", 50), ("100MiB", 5)]:
                size = sizes[name]
                key = next(k for k in keys if b.head_object(Bucket=BUCKET, Key=k)["ContentLength"] == size)
                url = b.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)
                curl_loop(url, 1)
                s = curl_loop(url, n)
                print(f"{'moto direct':18} {name:7} {s*1000:8.1f} ms/download  {size/s/(1<<20):8.0f} MiB/s", flush=True)
    finally:
        srv.stop()
moto.stop()
shutil.rmtree(work)
