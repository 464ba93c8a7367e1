"""Building: the west build, the build cache, the toolchain, twister filters, symbols."""
