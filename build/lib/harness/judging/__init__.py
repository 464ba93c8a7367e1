"""The judging core: pure functions and types, no I/O and no clock.

Data flows one way: UART bytes -> `lines` (bounded, decoded lines) -> `matcher`
(events and order rules of an `expect` spec) and `triage` (fatal-error dumps) ->
`judge` (one `Outcome` of `verdict`) ; `isolation` judges the probe's output into
a certificate, `agreement` compares runs of one ELF on two emulators, `results`
holds the record of a run. Time arrives as arguments (host seconds since the
stream began), never from a clock read here.
"""
