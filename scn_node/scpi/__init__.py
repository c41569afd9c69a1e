"""SCPI 2.2 vocabulary: pure values, no I/O and no framework imports."""
