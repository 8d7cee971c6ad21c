"""Per-install secrets kept in the var folder: the demo's Django secret key and the salt that makes the
demo's passwords and API key differ from one install to the next (the same on reruns of one install)."""
import os
import secrets

from django.conf import settings


def _install_secret(path, length):
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        value = path.read_text().strip()
        if len(value) >= length:
            return value
    except OSError:
        pass
    value = secrets.token_urlsafe(length)[:length]
    # Created readable by the owner only, and never replaced once written (a rerun keeps logins valid).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def ensure_secret_key():
    """var/secret.key for a demo install without URBANGRID_SECRET_KEY; settings.py reads it at start."""
    return _install_secret(settings.VAR_DIR / "secret.key", 64)


def install_salt():
    return _install_secret(settings.VAR_DIR / "demo" / "install.salt", 32)
