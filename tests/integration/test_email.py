"""Order email: `.eml` files in RUN_DIR/outbox (the session server), and SMTP to an aiosmtpd sink
(a second `fetchgate serve` with --smtp-url): content, send_email, the API not waiting for SMTP,
and retries with backoff while the SMTP server is down."""
import asyncio
import socket
import threading
import time
import uuid
from email.parser import BytesParser
from email import policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import (FORM_HEADERS, XML_HEADERS, Server, assert_error, child_text, free_port, mail_body, mails_to,
                      order_xml, outbox_messages, recipients, parse_xml, stock_shop, unique_email, wait_for)

MAIL_TIMEOUT = 10

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def order_id():
    return "MAIL-" + uuid.uuid4().hex[:8]


def assert_order_mail(msg, address, order, store_url):
    """To has the order email, Subject names the order, the body lists every item's absolute link
    and the expiry date."""
    oid = child_text(order, "id")
    assert recipients(msg) == [address]
    assert oid in msg["Subject"], f"Subject {msg['Subject']!r} should name order {oid}"
    body = mail_body(msg)
    for oi in order.find("order_items").findall("order_item"):
        url = f"{store_url}/get/{child_text(oi, 'guid')}"
        assert url in body, f"body lacks {url}:\n{body}"
    expiry_day = child_text(order, "expiration_date")[:10]
    assert expiry_day in body, f"body lacks the expiry date {expiry_day}:\n{body}"


# ----------------------------------------------------------------------------- outbox (.eml)

def mail_head(server, address):
    """The raw header lines of the (first) .eml to `address`."""
    for path in sorted((server.run_dir / "outbox").glob("*.eml")):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        if address.encode() in head:
            return head.decode("utf-8", "replace").split("\r\n")
    return []


def wait_for_eml(server, address, count=1):
    return wait_for(lambda: (lambda m: m if len(m) >= count else None)(mails_to(server.run_dir, address)),
                    timeout=MAIL_TIMEOUT, what=f"{count} .eml to {address} in {server.run_dir}/outbox")


def test_new_order_mail_in_outbox(shop, server):
    address = unique_email()
    order = shop.create_order(["A", "B"], id=order_id(), first_name="Bugs", email=address,
                              expiration_date="2031-07-24T01:47:30+00:00")
    (msg,) = wait_for_eml(server, address)
    assert_order_mail(msg, address, order, server.store_url)
    assert "2031-07-24" in mail_body(msg)
    assert msg["From"] and "@" in msg["From"]
    assert msg["Date"] and msg["Message-ID"]


def test_send_email_defaults_true_for_form_create(shop, server):
    address = unique_email()
    body = (f"order%5Bid%5D={order_id()}&order%5Bemail%5D={address}"
            "&order%5Border_items%5D%5B%5D%5Bsku%5D=A")
    resp = shop.post("/api/orders/create", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 201, resp.text
    (msg,) = wait_for_eml(server, address)
    assert_order_mail(msg, address, parse_xml(resp), server.store_url)


@pytest.mark.parametrize("value,headers", [("false", XML_HEADERS), ("0", XML_HEADERS), ("false", FORM_HEADERS)])
def test_send_email_false_sends_nothing(shop, server, value, headers):
    quiet, control = unique_email("quiet"), unique_email("control")
    if headers is XML_HEADERS:
        shop.create_order(["A"], email=quiet, send_email=value)
    else:
        body = f"order%5Bemail%5D={quiet}&order%5Bsend_email%5D={value}&order%5Border_items%5D%5B%5D%5Bsku%5D=A"
        assert shop.post("/api/orders/create", data=body, headers=headers).status_code == 201
    shop.create_order(["A"], email=control, send_email="1")  # queued after the quiet one
    wait_for_eml(server, control)
    time.sleep(0.5)
    assert mails_to(server.run_dir, quiet) == []


def test_update_mails_only_when_asked(shop, server):
    address, control = unique_email(), unique_email("control")
    oid = order_id()
    shop.create_order(["A"], id=oid, email=address, send_email="false")
    resp = shop.put(f"/api/orders/{oid}", data=order_xml(["A", "B"], title="Updated"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    shop.create_order(["A"], email=control)
    wait_for_eml(server, control)
    time.sleep(0.5)
    assert mails_to(server.run_dir, address) == [], "update: send_email defaults to false"
    new_id = order_id()
    resp = shop.put(f"/api/orders/{oid}", data=order_xml(id=new_id, send_email="true"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    (msg,) = wait_for_eml(server, address)
    assert_order_mail(msg, address, parse_xml(resp), server.store_url)
    assert oid not in msg["Subject"]


def test_send_email_command_mails_again(shop, server):
    address = unique_email()
    oid = order_id()
    shop.create_order(["A"], id=oid, email=address, expiration_date="2031-01-02T03:04:05+00:00")
    wait_for_eml(server, address, 1)
    resp = shop.get(f"/api/orders/{oid}/send_email?expiration_date=2032-06-07T08:09:10%2B00:00")
    assert resp.status_code == 200, resp.text
    mails = wait_for_eml(server, address, 2)
    assert len(mails) == 2
    first = [m for m in mails if "2031-01-02" in mail_body(m)]
    second = [m for m in mails if "2032-06-07" in mail_body(m)]
    assert len(first) == 1 and len(second) == 1, "the second mail carries the new expiry"
    assert_order_mail(second[0], address, shop.order(oid), server.store_url)


def test_non_ascii_names_are_encoded_headers(shop, server):
    address = unique_email()
    shop.create_order(["A"], id=order_id(), first_name="Jürgen", last_name="Müller", email=address)
    (msg,) = wait_for_eml(server, address)
    to = msg["To"]
    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [("Jürgen Müller", address)]
    (path,) = [p for p, m in outbox_messages(server.run_dir).items() if address in (m["To"] or "")]
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
    assert all(b < 128 for b in head), "headers are ASCII (RFC 2047 encoded words for names)"


def test_display_name_with_comma_names_one_recipient(shop, server):
    """`John Smith, Jr.` must be quoted in To: unquoted, the header reads as two recipients."""
    address = unique_email()
    shop.create_order(["A"], id=order_id(), first_name="John", last_name="Smith, Jr.", email=address)
    (msg,) = wait_for_eml(server, address)
    to = msg["To"]
    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [("John Smith, Jr.", address)], \
        f"To: {str(to)!r} parses as {[(a.display_name, a.addr_spec) for a in to.addresses]}"


def test_display_name_cannot_redirect_the_mail(shop, server):
    """A name with `:` and `;` must not turn To: into a group naming someone else's address."""
    address = unique_email()
    shop.create_order(["A"], id=order_id(), first_name="Mallory: evil@example.com;", email=address)
    (msg,) = wait_for_eml(server, address)
    named = recipients(msg)
    head = [line for line in mail_head(server, address) if line.startswith("To:")]
    assert named == [address], f"{head} names {named}"


# What a mail header carries from an order: the id (Subject), first and last name (To's display
# name) and the email (To's address). The title goes to the body only.
MAIL_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                "Content-Transfer-Encoding"]


def header_names(path):
    """The names of the header fields of an .eml, in order (continuation lines skipped)."""
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].decode() for line in head.split(b"\r\n") if line and line[:1] not in b" \t"]


CR_LF_FIELDS = {"id": "order id", "first_name": "first_name", "last_name": "last_name", "title": "title",
                "email": "email"}


@pytest.mark.parametrize("encoding", ["xml", "form"])
@pytest.mark.parametrize("field", sorted(CR_LF_FIELDS))
def test_cr_lf_in_order_fields_cannot_add_headers(shop, server, field, encoding):
    """CR/LF in any order field a mail header is made from (and the title) is refused with a 400
    naming the field: no order, no mail. The same order without it is mailed with exactly the
    usual headers."""
    address = unique_email()
    fields = {"id": order_id(), "first_name": "Eve", "last_name": "Doe", "title": "T", "email": address}
    fields[field] += "\r\nBcc: evil@example.com\r\nX-Injected: yes"
    before = shop.order_ids(per_page=100)
    if encoding == "xml":
        resp = shop.post("/api/orders", data=order_xml(["A"], **fields).replace("\r\n", "&#13;&#10;"),
                         headers=XML_HEADERS)
    else:
        resp = shop.post("/api/orders", data={**{f"order[{k}]": v for k, v in fields.items()},
                                              "order[order_items][][sku]": "A"})
    assert_error(resp, 400, f"{CR_LF_FIELDS[field]} must not contain control characters")
    assert "X-Injected" not in resp.headers and "Bcc" not in resp.headers
    assert shop.order_ids(per_page=100) == before

    # The same order without the injection is mailed. Mail goes out in queue order, so once it is
    # there, so would be anything the refused request had queued.
    control = unique_email("control")
    shop.create_order(["A"], id=order_id(), first_name="Eve", last_name="Doe", title="T", email=control)
    wait_for_eml(server, control)
    assert mails_to(server.run_dir, address) == []
    (path,) = [p for p, m in outbox_messages(server.run_dir).items() if control in (m["To"] or "")]
    assert header_names(path) == MAIL_HEADERS
    assert not [p for p in outbox_messages(server.run_dir) if b"evil@example.com" in p.read_bytes()
                and b"\r\nBcc:" in p.read_bytes().split(b"\r\n\r\n", 1)[0]]


def test_unicode_line_breaks_in_order_fields_stay_inside_their_header(shop, server):
    """NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are not control characters: the order is taken
    as sent, and the mail headers drop them, so no header is added."""
    marker = uuid.uuid4().hex[:8]
    address = unique_email()
    oid = f"INJ-{marker}\u2028Bcc: evil@example.com"
    order = shop.create_order(["A"], id=oid, first_name="Eve\u0085X-Injected: yes",
                              last_name="Doe\u2029Cc: evil@example.com", title="T\u2028X-Injected: yes", email=address)
    assert child_text(order, "id") == oid
    assert child_text(order, "first_name") == "Eve\u0085X-Injected: yes"
    assert child_text(order, "last_name") == "Doe\u2029Cc: evil@example.com"
    assert child_text(order, "title") == "T\u2028X-Injected: yes"
    (msg,) = wait_for_eml(server, address)
    (path,) = [p for p, m in outbox_messages(server.run_dir).items() if address in (m["To"] or "")]
    assert header_names(path) == MAIL_HEADERS
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f'\r\nTo: "EveX-Injected: yes DoeCc: evil@example.com" <{address}>\r\n' in head, head
    assert f"\r\nSubject: Your downloads for order INJ-{marker}Bcc: evil@example.com\r\n" in head, head
    assert recipients(msg) == [address]
    assert msg["Bcc"] is None and msg["Cc"] is None and msg["X-Injected"] is None


def test_cli_manual_order_mail_links_to_the_store(shop, server, cli):
    """A manual order made with the admin CLI mails links to the store the run dir serves."""
    address = unique_email()
    oid = order_id()
    cli("order", "create", "--key", shop.key, "--skus", "A,B", "--id", oid, "--email", address)
    (msg,) = wait_for_eml(server, address)
    assert_order_mail(msg, address, shop.order(oid), server.store_url)


def test_cli_no_email(shop, server, cli):
    quiet, control = unique_email("quiet"), unique_email("control")
    cli("order", "create", "--key", shop.key, "--skus", "A", "--id", order_id(), "--email", quiet, "--no-email")
    cli("order", "create", "--key", shop.key, "--skus", "A", "--id", order_id(), "--email", control)
    wait_for_eml(server, control)
    time.sleep(0.5)
    assert mails_to(server.run_dir, quiet) == []


# ----------------------------------------------------------------------------- SMTP

SMTP_USER, SMTP_PASSWORD, MAIL_FROM = "shop-mailer", "s3cret-pw", "orders@shop.example.com"


class Sink:
    """aiosmtpd handler that keeps every message; `delay` makes DATA slow."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []   # (mail_from, rcpt_tos, parsed message, received at)
        self.logins = []     # (login, password) tried
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg, time.monotonic()))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            with self.lock:
                self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.login == SMTP_USER.encode() and
                              auth_data.password == SMTP_PASSWORD.encode())
        return AuthResult(success=False)

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m[1]]

    def wait(self, address, count=1, timeout=MAIL_TIMEOUT):
        return wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.to(address)),
                        timeout=timeout, what=f"{count} SMTP message(s) to {address}")


def start_sink(sink, port):
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=sink.authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    return controller


@pytest.fixture(scope="module")
def mailer(tmp_path_factory):
    sink = Sink()
    port = free_port()
    env = SimpleNamespace(sink=sink, port=port, controller=start_sink(sink, port))
    srv = Server(tmp_path_factory.mktemp("fetchgate-smtp") / "run",
                 extra_args=["--smtp-url", f"smtp://127.0.0.1:{port}", "--smtp-user", SMTP_USER,
                             "--smtp-password", SMTP_PASSWORD, "--mail-from", MAIL_FROM])
    srv.start()
    env.server = srv
    env.shop = stock_shop(srv.create_account())
    try:
        yield env
    finally:
        srv.stop()
        if env.controller is not None:
            env.controller.stop()
    assert srv.proc.returncode == 0, f"second fetchgate serve exited with {srv.proc.returncode}\n{srv.logs()}"


def test_smtp_delivers_the_order_mail(mailer):
    address = unique_email()
    order = mailer.shop.create_order(["A", "B"], id=order_id(), first_name="Bugs", email=address)
    ((mail_from, rcpts, msg, _),) = mailer.sink.wait(address)
    assert rcpts == [address]
    assert mail_from == MAIL_FROM
    assert MAIL_FROM in str(msg["From"])
    assert_order_mail(msg, address, order, mailer.server.store_url)
    assert (SMTP_USER.encode(), SMTP_PASSWORD.encode()) in mailer.sink.logins, "the worker logs in with --smtp-user"


def test_smtp_send_email_command_sends_a_second_message(mailer):
    address = unique_email()
    oid = order_id()
    mailer.shop.create_order(["A"], id=oid, email=address)
    mailer.sink.wait(address, 1)
    resp = mailer.shop.post(f"/api/orders/{oid}/send_email", data="reset_expiration=true", headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    messages = mailer.sink.wait(address, 2)
    assert len(messages) == 2
    assert_order_mail(messages[1][2], address, mailer.shop.order(oid), mailer.server.store_url)


def test_smtp_send_email_false_sends_nothing(mailer):
    quiet, control = unique_email("quiet"), unique_email("control")
    mailer.shop.create_order(["A"], email=quiet, send_email="0")
    mailer.shop.create_order(["A"], email=control)
    mailer.sink.wait(control)
    time.sleep(0.5)
    assert mailer.sink.to(quiet) == []


def test_api_does_not_wait_for_a_slow_smtp_server(mailer):
    address = unique_email()
    oid = order_id()
    mailer.sink.delay = 3.0
    try:
        started = time.monotonic()
        mailer.shop.create_order(["A"], id=oid, email=address)
        create_took = time.monotonic() - started
        started = time.monotonic()
        resp = mailer.shop.get(f"/api/orders/{oid}/send_email")
        send_took = time.monotonic() - started
        assert resp.status_code == 200, resp.text
        assert create_took < 1.0, f"create took {create_took:.2f}s while SMTP is slow"
        assert send_took < 1.0, f"send_email took {send_took:.2f}s while SMTP is slow"
        messages = mailer.sink.wait(address, 2, timeout=20)
        assert all(received - started > 2.0 for _, _, _, received in messages), "the sink really was slow"
    finally:
        mailer.sink.delay = 0.0


def test_smtp_down_at_first_is_retried_with_backoff(mailer):
    """The worker retries (backoff 2 s, doubling) until the SMTP server is up; one message arrives."""
    mailer.controller.stop()
    mailer.controller = None
    address = unique_email()
    started = time.monotonic()
    order = mailer.shop.create_order(["B"], id=order_id(), email=address)
    assert time.monotonic() - started < 1.0, "the API does not wait for an unreachable SMTP server"
    time.sleep(3.5)
    assert mailer.sink.to(address) == []
    mailer.controller = start_sink(mailer.sink, mailer.port)
    ((_, rcpts, msg, received),) = mailer.sink.wait(address, 1, timeout=20)
    assert rcpts == [address]
    assert received - started < 20
    assert_order_mail(msg, address, order, mailer.server.store_url)
    time.sleep(0.5)
    assert len(mailer.sink.to(address)) == 1, "delivered once"


class BusyServer:
    """Listens on the sink's port and answers every connection with `421` (try later), counting them."""

    def __init__(self, port):
        self.attempts = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.attempts.append(time.monotonic())
            try:
                conn.sendall(b"421 127.0.0.1 Service not available, closing transmission channel\r\n")
            except OSError:
                pass
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def test_smtp_temporarily_unavailable_is_retried_with_backoff_not_hammered(mailer):
    """421 (a transient SMTP reply): the worker retries after its backoff (2 s, then 4 s, counted in
    whole seconds), not on every poll, and delivers once the server accepts mail."""
    mailer.controller.stop()
    mailer.controller = None
    busy = BusyServer(mailer.port)
    try:
        address = unique_email()
        started = time.monotonic()
        order = mailer.shop.create_order(["A"], id=order_id(), email=address)
        wait_for(lambda: len(busy.attempts) >= 2, timeout=10, what="the second SMTP attempt")
        time.sleep(2.5)  # the third attempt is due 4 s (3 s at least, in whole seconds) after the second
    finally:
        busy.stop()
    mailer.controller = start_sink(mailer.sink, mailer.port)
    attempts = [round(t - started, 2) for t in busy.attempts]
    assert len(attempts) == 2, f"connection attempts: {attempts}"
    # 2 s in whole seconds is 1 to 3 s, and the worker polls every 0.5 s.
    assert 1.0 <= attempts[1] - attempts[0] <= 3.6, f"second attempt not after the 2 s backoff: {attempts}"
    ((_, rcpts, msg, received),) = mailer.sink.wait(address, 1, timeout=20)
    assert rcpts == [address]
    assert_order_mail(msg, address, order, mailer.server.store_url)
    time.sleep(0.5)
    assert len(mailer.sink.to(address)) == 1, "delivered once"
