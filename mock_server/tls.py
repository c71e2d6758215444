"""TLS for a classroom: the training gateway makes its own small CA and a server certificate.

A trainer runs ``mdt-gateway serve --host 0.0.0.0 --tls`` on the classroom's laptop. The first
time, the gateway makes a CA (``tls/ca.pem`` with its key beside it, owner-only) in its data
folder, and every start a server certificate signed by it for ``localhost``, this machine's
name and addresses, and any ``--tls-name`` given. Trainees' terminals trust the CA through their
``ca_bundle`` setting (``mdt --gateway-url https://HOST:8765 --ca-bundle ca.pem``); nothing is
added to any system trust store. ``mdt-gateway ca`` prints where the CA file is.

The keys are EC P-256, the CA lives ten years, the server certificate 90 days and is remade at
every start. Built on ``cryptography`` (already a dependency of the client).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mdt.atomic import atomic_write_bytes

CA_NAME = "MDT training gateway classroom CA"


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the start (on Windows the folder's ACL applies), then replaced whole."""
    atomic_write_bytes(path, data)  # the one atomic writer (mdt.atomic)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ca(folder: Path, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_path, key_path = folder / "ca.pem", folder / "ca-key.pem"
    if ca_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and \
                cert.not_valid_after_utc > now + dt.timedelta(days=30):
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MDT training")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, _key_pem(key))
    ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def machine_names() -> list[str]:
    """localhost, this machine's host name, and its addresses (as far as it knows them)."""
    names = ["localhost", "127.0.0.1", "::1", socket.gethostname()]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.append(str(info[4][0]))
    except OSError:
        pass
    return list(dict.fromkeys(n for n in names if n))


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.split("%")[0]))
    except ValueError:
        return x509.DNSName(name)


def ensure_tls(data_dir: Path, extra_names: Iterable[str] = ()) -> TlsFiles:
    """The classroom CA (made once) and a fresh server certificate for this machine's names."""
    folder = data_dir / "tls"
    now = dt.datetime.now(dt.UTC)
    ca_cert, ca_key = _ca(folder, now)
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(dict.fromkeys([*machine_names(), *extra_names]))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([_alt_name(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    _write_private(files.key, _key_pem(key))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
