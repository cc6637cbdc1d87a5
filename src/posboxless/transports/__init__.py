"""Byte transports: serial ports, USB, the usblp node, TCP, files.

They know nothing of protocols."""

from posboxless.transports.base import Transport, TransportError

__all__ = ["Transport", "TransportError"]
