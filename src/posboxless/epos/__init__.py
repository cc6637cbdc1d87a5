"""Every printer as an Epson ePOS-Print printer (issue 11): the sans-I/O protocol core.

The HTTP front-end is ``posboxless.web.epos``; printing goes through each printer's durable queue
like every other job.
"""
