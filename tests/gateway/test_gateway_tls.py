"""A classroom gateway over HTTPS with its own CA: trainees' terminals that trust the CA (their
ca_bundle setting) sign in; one that does not gets a sentence saying what to set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from mdt.net.gateway import GatewayUnreachable
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from tests.conftest import start_gateway


def test_tls_classroom_gateway_is_trusted_through_the_ca_bundle(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "gw", "--tls", "--tls-name", "classroom.example")
    try:
        assert gateway.url.startswith("https://127.0.0.1:")
        ca = tmp_path / "gw" / "tls" / "ca.pem"
        server = x509.load_pem_x509_certificate((tmp_path / "gw" / "tls" / "server.pem")
                                                .read_bytes())
        names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "classroom.example" in names.get_values_for_type(x509.DNSName)
        assert (tmp_path / "gw" / "tls" / "server-key.pem").stat().st_mode & 0o077 == 0 \
            or sys.platform == "win32"

        untrusting = Terminal(Settings(tmp_path / "a.json"))
        untrusting.set_gateway(gateway.url)
        with pytest.raises(GatewayUnreachable, match="does not trust") as refused:
            untrusting.health()
        assert refused.value.code == "untrusted_certificate"
        untrusting.close()

        trainee = Terminal(Settings(tmp_path / "b.json"))
        trainee.set_gateway(gateway.url, str(ca))
        assert trainee.health()["training"] is True
        accounts = {a["user_id"]: a for a in trainee.demo_accounts()}
        operator = trainee.login("officer1", accounts["officer1"]["password"],
                                 accounts["officer1"]["otp_now"])
        assert operator.training and operator.gateway_url.startswith("https://")
        trainee.close()
    finally:
        gateway.stop()

    # The CA stays (trainees keep trusting it); `mdt-gateway ca` says where it is.
    out = subprocess.run([sys.executable, "-m", "mock_server", "ca", "--data-dir",
                          str(tmp_path / "gw")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(ca)


def test_a_missing_ca_bundle_is_named_in_the_error(tmp_path: Path) -> None:
    terminal = Terminal(Settings(tmp_path / "s.json"))
    terminal.set_gateway("https://127.0.0.1:9", str(tmp_path / "no-such-ca.pem"))
    with pytest.raises(GatewayUnreachable, match=r"no-such-ca\.pem") as refused:
        terminal.health()
    assert refused.value.code == "ca_bundle"
    terminal.close()
