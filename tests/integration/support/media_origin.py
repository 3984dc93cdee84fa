"""The media origin of the fetch tests (issue 10): real media made by ffmpeg once per session,
served by a threaded HTTP server on 127.0.0.1 that the stack reaches as `localhost`
(`--allow-private-hosts localhost`), and a "forbidden target" that every hostile case points at
and that records each request it gets (a guard test asserts it was never hit).

Routes of `MediaOrigin` (all GET/HEAD, Range honoured, every request logged):
  /v.mp4                 the clip (2 s, 320x240, h264 + aac)
  /page.html             <video src="/v.mp4"> (generic extractor), title PAGE_TITLE
  /hls/index.m3u8        an HLS stream made by ffmpeg (1 s segments), /hls/segN.ts
  /slow/RATE/NAME.mp4    a bigger clip trickled at RATE bytes/s (NAME makes the URL unique)
  /missing.mp4           404
  /oversize.mp4          a video/mp4 body of OVERSIZE_BYTES (above the stack's --max-fetch-bytes)
  /go/127.0.0.2          302 → http://127.0.0.2:F/v.mp4              (forbidden target)
  /go/metadata           302 → http://169.254.169.254/latest/meta-data/
  /go/mapped             302 → http://[::ffff:127.0.0.1]:F1/v.mp4    (forbidden target's 127.0.0.1 listener)
  /hostile/all.m3u8      the HLS playlist with every segment on http://127.0.0.2:F/hls/…
  /hostile/mixed.m3u8    the first segment here, the others on 127.0.0.2
  /hostile/page.html     <video src="http://127.0.0.2:F/v.mp4">
The forbidden target serves the same clip and segments, so without a guard each hostile case
downloads fine (test_media_origin.py shows it), and a guard is what makes it fail.
"""
import contextlib
import http.server as _http_server
import os
import re
import subprocess
import threading
import time
import urllib.parse as _urlparse
from pathlib import Path

from .origins import Origin

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
PAGE_TITLE = "Fetchgate Test Clip"
PLAYLIST_TITLE = "Fetchgate Test Playlist"
HOSTILE_PAGE_TITLE = "Hostile Clip"
FORBIDDEN_HOST = "127.0.0.2"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
# The fetch stack's --max-fetch-bytes; the oversize file is bigger, every other file smaller.
MAX_FETCH_BYTES = 8_000_000
OVERSIZE_BYTES = MAX_FETCH_BYTES + 2_000_000
SLOW_RATE = 400_000  # bytes per second: the slow clip takes several seconds


class MediaFiles:
    """Media made once per session in `directory`: the clip, its HLS form, the slow clip."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.mp4 = self.dir / "v.mp4"
        # The command of the brief, as given.
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
                                 "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest",
                                 "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(self.mp4)],
                       check=True, timeout=120, cwd=self.dir)
        self.mp4_bytes = self.mp4.read_bytes()
        # HLS: a keyframe every second so `-hls_time 1` really cuts 1 s segments.
        self.hls_dir = self.dir / "hls"
        self.hls_dir.mkdir()
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
                                 "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest",
                                 "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac",
                                 "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                                 "-hls_segment_filename", str(self.hls_dir / "seg%d.ts"),
                                 str(self.hls_dir / "index.m3u8")], check=True, timeout=120)
        self.playlist = (self.hls_dir / "index.m3u8").read_text()
        self.segments = {p.name: p.read_bytes() for p in sorted(self.hls_dir.glob("seg*.ts"))}
        assert len(self.segments) >= 2, f"ffmpeg made {len(self.segments)} HLS segment(s)"
        # The slow clip: noisy video compresses badly, so 4 s make a few MB.
        self.slow = self.dir / "slow.mp4"
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25:duration=4",
                                 "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-shortest",
                                 "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
                                 "-b:v", "6M", "-maxrate", "6M", "-bufsize", "6M", "-pix_fmt", "yuv420p",
                                 "-c:a", "aac", str(self.slow)], check=True, timeout=120)
        self.slow_bytes = self.slow.read_bytes()
        assert 1_500_000 <= len(self.slow_bytes) < MAX_FETCH_BYTES, len(self.slow_bytes)
        # Oversize: the clip padded with zeros (only its announced size matters to a size limit).
        self.oversize_bytes = self.mp4_bytes + b"\0" * (OVERSIZE_BYTES - len(self.mp4_bytes))


def video_page(title, src):
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body><h1>{title}</h1>\n<video controls src=\"{src}\"></video>\n</body></html>\n").encode()


def playlist_page(title, sources):
    """Several <video> tags: yt-dlp's generic extractor reads the page as a playlist, one entry per
    tag, titled "<title> (1)", "(2)"…, each entry's URL the tag's media."""
    videos = "".join(f"<video controls src=\"{src}\"></video>\n" for src in sources)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body><h1>{title}</h1>\n{videos}</body></html>\n").encode()


def rewrite_segments(playlist, base, keep_first=False):
    """The playlist with its segment URIs made absolute on `base` (the first kept relative if asked)."""
    out, seen = [], 0
    for line in playlist.splitlines():
        if line and not line.startswith("#"):
            line = line if keep_first and seen == 0 else base + line
            seen += 1
        out.append(line)
    return ("\n".join(out) + "\n").encode()


class _Handler(_http_server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def answer(self, head):
        site = self.server.site
        path = _urlparse.urlsplit(self.path).path
        record = {"method": self.command, "path": path, "host": self.headers.get("Host"),
                  "range": self.headers.get("Range"), "user_agent": self.headers.get("User-Agent"),
                  "client": self.client_address[0], "local": self.server.server_address[0],
                  "sent": 0, "complete": False, "at": time.monotonic()}
        with site.lock:
            site.log.append(record)
        try:
            route = site.route(path)
            if route is None:
                self.send_body(404, b"not found\n", "text/plain", head, record)
            elif route[0] == "redirect":
                self.send_response(route[1])
                self.send_header("Location", route[2])
                self.send_header("Content-Length", "0")
                self.end_headers()
                record["complete"] = True
            else:
                _, status, body, ctype, rate = route
                self.send_body(status, body, ctype, head, record, rate)
        except (BrokenPipeError, ConnectionResetError, OSError):
            record["aborted"] = True
        finally:
            self.close_connection = True

    def send_body(self, status, body, ctype, head, record, rate=None):
        start, end = 0, len(body)
        wanted = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
        if status == 200 and m and int(m.group(1)) < len(body):
            start = int(m.group(1))
            end = min(len(body), int(m.group(2)) + 1) if m.group(2) else len(body)
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            record["complete"] = True
            return
        chunk = 64 * 1024 if rate is None else max(1, min(64 * 1024, rate // 10))
        for at in range(start, end, chunk):
            self.wfile.write(body[at:min(end, at + chunk)])
            self.wfile.flush()
            record["sent"] = min(end, at + chunk) - start
            if rate is not None:
                time.sleep(chunk / rate)
        record["complete"] = True


class _Site(Origin):
    """A set of routes on one or more listeners, with one request log (`serve`, `redirect`, `mark`
    and `since` as the URL-import origin's; its own handler adds HEAD, Range and the listener)."""

    def __init__(self, name, addresses):  # not Origin.__init__: no listener of its own
        self.lock = threading.Lock()
        self.log = []
        self.routes = {}
        self.servers = []
        for host in addresses:
            httpd = _http_server.ThreadingHTTPServer((host, 0), _Handler)
            httpd.daemon_threads = True
            httpd.site = self
            threading.Thread(target=httpd.serve_forever, name=f"{name}-{host}", daemon=True).start()
            self.servers.append(httpd)

    def port_on(self, host):
        return next(s.server_address[1] for s in self.servers if s.server_address[0] == host)

    def route(self, path):
        with self.lock:
            return self.routes.get(path)

    def requests(self, path=None, contains=None):
        with self.lock:
            return [dict(r) for r in self.log
                    if (path is None or r["path"] == path) and (contains is None or contains in r["path"])]

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


class ForbiddenTarget(_Site):
    """What no fetch may reach: listeners on 127.0.0.2 and on 127.0.0.1 (the latter for the
    `[::ffff:127.0.0.1]` spelling), serving the same media as the origin; `hits` counts requests."""

    def __init__(self, files):
        super().__init__("forbidden", [FORBIDDEN_HOST, "127.0.0.1"])
        self.port = self.port_on(FORBIDDEN_HOST)
        self.loopback_port = self.port_on("127.0.0.1")
        self.serve("/v.mp4", files.mp4_bytes, "video/mp4")
        self.serve("/latest/meta-data/", b"ami-id\n", "text/plain")
        for name, data in files.segments.items():
            self.serve(f"/hls/{name}", data, "video/mp2t")

    @property
    def hits(self):
        with self.lock:
            return len(self.log)

    def url(self, path):
        return f"http://{FORBIDDEN_HOST}:{self.port}{path}"


class MediaOrigin(_Site):
    """The allowed origin (see the module doc); `url(path)` (the Origin's) spells it `http://localhost:PORT…`."""

    def __init__(self, files, forbidden):
        super().__init__("media-origin", ["127.0.0.1"])
        self.files = files
        self.forbidden = forbidden
        self.port = self.port_on("127.0.0.1")
        self.serve("/v.mp4", files.mp4_bytes, "video/mp4")
        self.serve("/page.html", video_page(PAGE_TITLE, "/v.mp4"), "text/html; charset=utf-8")
        self.serve("/playlist.html", playlist_page(PLAYLIST_TITLE, ["/v.mp4?n=1", "/v.mp4?n=2", "/v.mp4?n=3"]),
                   "text/html; charset=utf-8")
        self.serve("/hls/index.m3u8", files.playlist.encode(), "application/vnd.apple.mpegurl")
        for name, data in files.segments.items():
            self.serve(f"/hls/{name}", data, "video/mp2t")
        self.serve("/oversize.mp4", files.oversize_bytes, "video/mp4")
        # The hostile cases.
        self.redirect("/go/127.0.0.2", forbidden.url("/v.mp4"))
        self.redirect("/go/metadata", METADATA_URL)
        self.redirect("/go/mapped", f"http://[::ffff:127.0.0.1]:{forbidden.loopback_port}/v.mp4")
        self.serve("/hostile/all.m3u8", rewrite_segments(files.playlist, forbidden.url("/hls/")),
                   "application/vnd.apple.mpegurl")
        self.serve("/hostile/mixed.m3u8", rewrite_segments(files.playlist, forbidden.url("/hls/"), keep_first=True),
                   "application/vnd.apple.mpegurl")
        # The mixed playlist's first segment is relative to /hostile/.
        first = next(iter(files.segments))
        self.serve(f"/hostile/{first}", files.segments[first], "video/mp2t")
        self.serve("/hostile/page.html", video_page(HOSTILE_PAGE_TITLE, forbidden.url("/v.mp4")),
                   "text/html; charset=utf-8")
        # The URLs of the cases, by what they are.
        self.mp4_url, self.page_url = self.url("/v.mp4"), self.url("/page.html")
        self.playlist_url = self.url("/playlist.html")
        self.hls_url = self.url("/hls/index.m3u8")
        self.missing_url, self.oversize_url = self.url("/missing.mp4"), self.url("/oversize.mp4")

    def route(self, path):
        m = re.fullmatch(r"/slow/(\d+)/[A-Za-z0-9_-]+\.mp4", path)
        if m:
            return ("status", 200, self.files.slow_bytes, "video/mp4", int(m.group(1)))
        return super().route(path)

    def slow_url(self, name, rate=SLOW_RATE):
        """A URL of the slow clip, unique by `name` (so a test can find its yt-dlp by command line)."""
        return self.url(f"/slow/{rate}/{name}.mp4")

    def hostile_urls(self):
        """Name → URL of every case that must end in `blocked_address`."""
        return {
            "redirect-127.0.0.2": self.url("/go/127.0.0.2"),
            "redirect-169.254.169.254": self.url("/go/metadata"),
            "redirect-mapped-127.0.0.1": self.url("/go/mapped"),
            "hls-segments-127.0.0.2": self.url("/hostile/all.m3u8"),
            "hls-later-segments-127.0.0.2": self.url("/hostile/mixed.m3u8"),
            "video-src-127.0.0.2": self.url("/hostile/page.html"),
        }


@contextlib.contextmanager
def media_sites(files):
    """A forbidden target and a media origin pointing at it, closed afterwards: (origin, target)."""
    target = ForbiddenTarget(files)
    origin = MediaOrigin(files, target)
    try:
        yield origin, target
    finally:
        origin.close()
        target.close()


def processes_mentioning(text):
    """Pids of live processes whose command line contains `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if text in cmdline and int(proc.name) != os.getpid():
                with contextlib.suppress(OSError):
                    state = next((ln for ln in (proc / "status").read_text().splitlines()
                                  if ln.startswith("State:")), "")
                    if "Z" not in state.split()[1:2]:  # zombies are gone already
                        found.append(int(proc.name))
    return found
