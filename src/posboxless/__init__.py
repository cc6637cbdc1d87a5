"""posboxless: the hardware bridge of the Odoo Point of Sale."""

__version__ = "0.1.0"
