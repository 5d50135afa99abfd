"""Sums passed and failed tests over every TRX file under a folder; prints 'N passed, N failed'."""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = 0
for trx in pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "TestResults").rglob("*.trx"):
    counters = ET.parse(trx).getroot().find("t:ResultSummary/t:Counters", NS)
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
print(f"{passed} passed, {failed} failed")
