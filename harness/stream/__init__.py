"""The UART line stream: the socket, the watch loop, the interactive device."""
