"""A real IMAP server for tests: Debian's Dovecot on loopback ports — IMAPS, and IMAP that
requires STARTTLS — with a throwaway self-signed certificate, one passwd-file user, all under a
temporary folder (issue 15).

`.ci/run` installs `dovecot-imapd` when it is missing; `ensure_dovecot()` does the same when the
tests run as root with apt available, and otherwise returns None so the test can skip saying why.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "bounces", "bounce-test-password"


def ensure_dovecot() -> str | None:
    """The dovecot binary, installing `dovecot-imapd` with apt when absent and allowed."""
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "dovecot-imapd"], env=env, capture_output=True, timeout=600)
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    cafile: Path
    folder: Path
    process: subprocess.Popen
    starttls_port: int  # plain IMAP where STARTTLS is required before login (ssl = required)

    def client(self):
        import imaplib
        import ssl

        conn = imaplib.IMAP4_SSL(
            self.host, self.port, ssl_context=ssl.create_default_context(cafile=str(self.cafile)), timeout=10
        )
        conn.login(self.user, self.password)
        return conn

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dovecot(binary: str) -> Dovecot:
    folder = Path(tempfile.mkdtemp(prefix="drs-dovecot-"))
    folder.chmod(0o755)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    for sub in ("run", "state", "mail", "home"):
        (folder / sub).mkdir()
    if os.geteuid() == 0:
        import pwd

        mail_user = pwd.getpwnam("nobody")
        internal, login = "dovecot", "dovenull"
        for sub in ("mail", "home"):
            os.chown(folder / sub, mail_user.pw_uid, mail_user.pw_gid)
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        for name in ("passwd", "key.pem"):
            (folder / name).chmod(0o644)
    else:
        internal = login = getpass.getuser()
        uid, gid = os.getuid(), os.getgid()
    port, starttls_port = _free_port(), _free_port()
    (folder / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    process = subprocess.Popen(
        [binary, "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot exited: {out}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("dovecot did not listen within 20 s")
    return Dovecot("127.0.0.1", port, USER, PASSWORD, folder / "cert.pem", folder, process, starttls_port)
