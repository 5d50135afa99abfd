#!/usr/bin/python3
"""Reference for bench/Qct: read every CT and label file with pydicom and numpy (rescaled to float), timed."""
import glob
import sys
import time

import numpy as np
import pydicom

start = time.perf_counter()
total = 0
for path in sorted(glob.glob(sys.argv[1] + "/ct/*.dcm") + glob.glob(sys.argv[1] + "/labels/*.dcm")):
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
    total += pixels.size
print(f"pydicom_seconds={time.perf_counter() - start:.4f} voxels={total}")
