"""Order mail as tests read it: the `.eml` files of RUN_DIR/outbox and their headers."""
import email as _email
import email.policy as _email_policy
import uuid
from pathlib import Path


def outbox_messages(run_dir):
    """All `.eml` files in RUN_DIR/outbox as parsed messages (path → EmailMessage)."""
    out = {}
    box = Path(run_dir) / "outbox"
    if not box.is_dir():
        return out
    for p in sorted(box.glob("*.eml")):
        try:
            out[p] = _email.message_from_bytes(p.read_bytes(), policy=_email_policy.default)
        except OSError:
            continue
    return out


def mails_to(run_dir, address):
    """Outbox messages whose raw header block names `address` (robust to headers the parser rejects)."""
    out = []
    for path, msg in outbox_messages(run_dir).items():
        try:
            head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        except OSError:
            continue
        if address.encode() in head:
            out.append(msg)
    return out


def recipients(msg, name="To"):
    """The addr-specs of an address header, or a description of why it does not parse."""
    try:
        return [a.addr_spec for a in msg[name].addresses]
    except Exception as e:  # the stdlib parser gives up on some malformed headers
        return [f"<unparseable {name} header: {type(e).__name__}: {e}>"]


def unique_email(tag="buyer"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def mail_body(msg):
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    return part.get_content()
