"""This machine's names and addresses (for certificates, the origin policy and status tickets)."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from pathlib import Path

_SIOCGIFADDR = 0x8915


def host_names() -> list[str]:
    name = socket.gethostname().lower()
    names = [name]
    if "." not in name:
        names.append(f"{name}.local")
    try:
        fqdn = socket.getfqdn().lower()
    except OSError:
        fqdn = name
    if fqdn not in names and fqdn != "localhost":
        names.append(fqdn)
    return names


def _ipv4_addresses() -> list[str]:
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _index, ifname in socket.if_nameindex():
            request = struct.pack("256s", ifname.encode()[:15])
            try:
                answer = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, request)
            except OSError:  # interface without an IPv4 address
                continue
            found.append(socket.inet_ntoa(answer[20:24]))
    return found


def _ipv6_addresses() -> list[str]:
    found: list[str] = []
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        hexaddr = line.split()[0]
        address = ipaddress.IPv6Address(bytes.fromhex(hexaddr))
        if not address.is_link_local:
            found.append(str(address))
    return found


def machine_addresses() -> list[str]:
    """IPv4 and IPv6 addresses of the machine's interfaces, loopback included, no duplicates."""
    addresses: list[str] = []
    for address in ["127.0.0.1", "::1", *_ipv4_addresses(), *_ipv6_addresses()]:
        if address not in addresses:
            addresses.append(address)
    return addresses
