"""Replace a fleet: reissue every order with a new CSR, wait for issuance, download."""

import asyncio

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


def new_csr(common_name: str) -> str:
    """A CSR for a new key (each server gets its own; keep the key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


async def main() -> None:
    async with FakeCertCentral(issue_after=0.5, realtime=True) as fake:
        fleet = [fake.add_order("issued", common_name="example.com") for _ in range(3)]
        fleet.append(fake.add_order("canceled"))  # not reissuable
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            csrs = {order_id: new_csr("example.com") for order_id in fleet}
            report = await dc.reissue_orders(client, csrs, concurrency=20)
            print(report.counts["reissued"], "reissued,", report.counts["not_reissuable"], "not")
            reissued = report.ids(dc.ReissueOutcome.REISSUED)
            async for _ in dc.poll_orders(client, reissued, until="issued", interval=0.2):
                pass
            async for item in dc.download_certificates(client, reissued, format="pem_all"):
                print(item.order_id in reissued, item.error, item.data.count(b"BEGIN CERT"))


asyncio.run(main())
# It prints:
# 3 reissued, 1 not
# True None 3
# True None 3
# True None 3
