"""Address policy: which IP addresses a fetch may connect to, and which hosts are addresses.

Stage: service edge, pure (no I/O). In: an :class:`~ipaddress.IPv4Address` or
:class:`~ipaddress.IPv6Address`, or a URL's host ``str``. Out: :func:`refusal` gives ``None`` for
a public unicast address, or a phrase naming why it is refused (private, loopback, link-local,
multicast, reserved, unspecified, site-local, shared 100.64/10, cloud metadata, a zone index, or
an IPv6 address embedding such an IPv4 one); :func:`ip_literal` gives the address a host names by
itself (``[::1]``, ``2130706433``, ``0x7f.1``, ``0177.1``), or ``None`` for a name to resolve.

Errors: :func:`ip_literal` raises ``ValueError`` or ``OSError`` for a numeric host that is no
valid address; :mod:`summariser.service.fetch` translates it into its ``FetchError``.
"""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

__all__ = ["IPAddress", "ip_literal", "refusal"]

IPAddress = IPv4Address | IPv6Address

# Addresses ipaddress calls global but that must never be fetched, and some it already refuses,
# listed so that the refusal names them.
_DENIED = (
    (ip_network("169.254.169.254/32"), "the cloud metadata service (AWS, GCP, Azure)"),
    (ip_network("169.254.170.2/32"), "the ECS task metadata service"),
    (ip_network("fd00:ec2::254/128"), "the AWS metadata service over IPv6"),
    (ip_network("100.100.100.200/32"), "the Alibaba Cloud metadata service"),
    (ip_network("168.63.129.16/32"), "the Azure platform (WireServer) address"),
    # Python 3.11 calls shared address space neither private nor global: name it.
    (ip_network("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
)
_NAT64 = ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why the address may not be fetched, or ``None`` when it is a public unicast address."""
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            return "an address with a zone index"
        embedded = _embedded_ipv4(ip)
        # A gateway would route such an address to the IPv4 one: judge that one too.
        if embedded is not None and (why := refusal(embedded)) is not None:
            return f"{why}, embedded in {ip}"
    for network, name in _DENIED:
        if ip.version == network.version and ip in network:
            return name
    flags = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, IPv6Address) and ip.is_site_local),
        ("not globally routable", not ip.is_global),
    )
    return next((f"a {name} address" for name, flag in flags if flag), None)


# One to four dot-separated numbers, each decimal, octal (leading 0) or hex (0x): the forms
# inet_aton accepts, and so what getaddrinfo would quietly read as an address.
_NUMBER = r"(?:0x[0-9a-f]*|[0-9]+)"
_NUMERIC_HOST = re.compile(rf"{_NUMBER}(?:\.{_NUMBER}){{0,3}}\.?", re.IGNORECASE)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names by itself (``[::1]``, ``127.0.0.1``, ``0x7f.1``), or ``None``.

    A numeric host that is no valid address raises ``ValueError`` or ``OSError``: it is one
    resolvers would disagree about.
    """
    if ":" in host:
        return ip_address(host)
    if _NUMERIC_HOST.fullmatch(host):
        return IPv4Address(socket.inet_aton(host.rstrip(".")))
    return None
