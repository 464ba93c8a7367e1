"""Code coverage of a run (`--coverage`).

On QEMU, as twister does it: the image is built with CONFIG_COVERAGE (the board must
select HAS_COVERAGE_SUPPORT), prints its gcov counters on the UART once main() returns
(judging/gcov_dump.py reads them, judging/judge.py waits for the end of the dump), and
gcov.py writes the .gcda files beside copies of the build's .gcno files and runs gcovr
with the toolchain's gcov: HTML, Cobertura XML, LCOV and gcovr's JSON in the run
directory. run.py is what the run orchestrator calls.

A gcov image is not the image whose isolation is certified: instrumentation changes its
code, its layout, and gives every thread write access to the counters (Zephyr's
coverage MPU region). Every coverage result says which image and method it measured.
"""
