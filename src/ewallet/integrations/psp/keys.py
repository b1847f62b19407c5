"""RSA keys for the PSPs: loading them in the forms PSP consoles hand out, and development keys.

Alipay's console shows keys as bare base64 (no PEM armour), WeChat Pay hands out PEM files
and platform certificates; :func:`load_private_key` / :func:`load_public_key` take all of
these so an operator can paste what they were given.

In development no PSP account exists: :class:`DevKeyring` makes the keys of both sides (our
app's and the sandbox PSP's) once under ``var_dir/psp/`` and reuses them, so restarts and a
standalone ``ewallet sandbox alipay`` keep agreeing with the wallet. Generation is lazy
(:class:`Lazy`): an app that never starts a PSP payment never pays for an RSA key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final, Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

T = TypeVar("T")

KEY_SIZE: Final = 2048
API_V3_KEY_LENGTH: Final = 32  # WeChat Pay's APIv3 key: 32 ASCII characters = AES-256
_API_V3_ALPHABET: Final = string.ascii_letters + string.digits


class Lazy(Generic[T]):
    """A value made on first use and kept (keys that may need generating or reading)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._box: tuple[T] | None = None  # a box, so a loaded None is still "loaded"

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        return cls(lambda: value)

    def get(self) -> T:
        if self._box is None:
            self._box = (self._load(),)
        return self._box[0]


def _der_from_text(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as error:
        raise ValueError("not PEM and not base64") from error


def load_private_key(data: str | bytes) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#8 or PKCS#1) or bare base64 DER."""
    text = data.decode("ascii") if isinstance(data, bytes) else data
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    else:
        key = serialization.load_der_private_key(_der_from_text(text), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("not an RSA private key")
    return key


def load_public_key(data: str | bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM, an X.509 certificate PEM, or bare base64 DER."""
    text = data.decode("ascii") if isinstance(data, bytes) else data
    key: object
    if "-----BEGIN CERTIFICATE-----" in text:
        key = x509.load_pem_x509_certificate(text.encode("ascii")).public_key()
    elif "-----BEGIN" in text:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    else:
        key = serialization.load_der_public_key(_der_from_text(text))
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("not an RSA public key")
    return key


def read_private_key(path: Path) -> rsa.RSAPrivateKey:
    return load_private_key(path.read_text(encoding="ascii"))


def read_public_key(path: Path) -> rsa.RSAPublicKey:
    return load_public_key(path.read_text(encoding="ascii"))


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: rsa.RSAPublicKey) -> str:
    """A stable id for a development key (stands in for a certificate serial number)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return hashlib.sha256(der).hexdigest()[:40].upper()


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _write_once(path: Path, content: str) -> str:
    """Write ``content`` to ``path`` unless another process got there first; return the winner.

    Several ``ewallet serve --workers N`` processes may start at once: the file is written
    aside and hard-linked into place, which fails if it exists, so all agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(content)
        Path(temp_name).chmod(0o600)
        try:
            os.link(temp_name, path)
        except FileExistsError:
            return path.read_text(encoding="ascii")
        return content
    finally:
        Path(temp_name).unlink(missing_ok=True)


class DevKeyring:
    """Development keys of both sides under ``var_dir/psp/``, made on first use.

    Names: ``alipay_app`` (our Alipay app), ``alipay_platform`` (the sandbox Alipay),
    ``wechat_merchant`` (our merchant API key), ``wechat_platform`` (the sandbox WeChat Pay).
    """

    def __init__(self, var_dir: Path) -> None:
        self.directory = var_dir / "psp"
        self._keys: dict[str, rsa.RSAPrivateKey] = {}

    def private_key(self, name: str) -> rsa.RSAPrivateKey:
        if name not in self._keys:
            path = self.directory / f"{name}.pem"
            if path.exists():
                self._keys[name] = read_private_key(path)
            else:
                pem = _write_once(path, private_key_pem(generate_private_key()))
                self._keys[name] = load_private_key(pem)
        return self._keys[name]

    def public_key(self, name: str) -> rsa.RSAPublicKey:
        return self.private_key(name).public_key()

    def api_v3_key(self) -> str:
        path = self.directory / "wechat_api_v3.key"
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        fresh = "".join(secrets.choice(_API_V3_ALPHABET) for _ in range(API_V3_KEY_LENGTH))
        return _write_once(path, fresh + "\n").strip()
