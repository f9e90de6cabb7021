"""The analysis core: pure statistics, detectors and the judge. No I/O, no other Sentra code."""
