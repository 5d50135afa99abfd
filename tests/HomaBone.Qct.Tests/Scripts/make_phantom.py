#!/usr/bin/python3
"""Digital QCT phantom of docs/qct.md, written with pydicom; its answers are known in closed form.

Usage: make_phantom.py OUTDIR SLICE_MM SEED [--variants] [--matrix N] [--pixel-mm ROW,COL]

A tilted hollow cylinder (axis 50 degrees from z, in the x-z plane) of segments along its axis
(head cap | neck | intertrochanter | trochanter | cap), each with outer radius R_o, cortical thickness t,
cortical density rho_c and trabecular density rho_t (mg/cm3 K2HPO4); five Mindways Model 3 rods in a pad,
their HU from the Mindways model with sigma_CT = 1.25, beta_CT = -10: HU = water + sigma_ref*K + beta_ref.
Rendering: 3x3 in-plane supersampling (voxel partial volume), a box slice profile (samples across the slice
thickness), Gaussian in-plane blur sigma 0.4 mm, Gaussian noise sd 10 HU, stored int16 with intercept -1024.
Pixel Spacing is [0.8 row, 0.75 column] mm (non-square, to catch row/column swaps).
Labels (same geometry, own series): 1 neck, 2 trochanter, 3 intertrochanter, 4 other bone (caps), 0 elsewhere,
from voxel centres. File names are random (file order is not slice order).
With --variants: ct_rev/ (instance numbers reversed), ct_noweight/ (no Patient's Weight, new series UID),
ct_lossy/ (Lossy Image Compression 01, 140 kVp, 300 mAs),
neg/mr.dcm (Modality MR), neg/compressed.dcm (gdcmconv --jpeg).
With --matrix N the slices are N x N pixels (the bench uses 512: a clinical 512 x 512 matrix) with the same
phantom centred in a larger field of air; --pixel-mm sets the Pixel Spacing (default 0.8,0.75; with 0.25,0.25 the
phantom fills most of a 512 matrix). The phantom is rendered only inside its bounding box (everything outside is
air, -1000 HU), then blurred and noised over the whole slice. The test suite uses neither option.
truth.json holds the closed-form values (qct.md) and the true calibration.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from scipy.ndimage import gaussian_filter

SIGMA_CT, BETA_CT = 1.25, -10.0
K2HPO4 = [-51.83, -53.40, 58.88, 157.05, 375.83]
WATER = [1012.25, 1056.95, 1103.57, 1119.52, 923.20]
ROD_X = [-36.0, -18.0, 0.0, 18.0, 36.0]
ROD_Y, ROD_R = 39.0, 6.0
TILT = math.radians(50.0)
AXIS = np.array([math.sin(TILT), 0.0, math.cos(TILT)])
CENTER = np.array([0.0, -5.0, 0.0])
# name, s0, s1 (mm along the axis), R_o, t (mm), rho_c, rho_t (mg/cm3), label
SEGMENTS = [
    ("head", 0.0, 20.0, 15.0, 1.5, 900.0, 250.0, 4),
    ("neck", 20.0, 45.0, 15.0, 1.8, 950.0, 180.0, 1),
    ("intertrochanter", 45.0, 70.0, 17.0, 2.5, 950.0, 150.0, 3),
    ("trochanter", 70.0, 95.0, 17.0, 1.5, 850.0, 120.0, 2),
    ("cap", 95.0, 110.0, 17.0, 1.5, 850.0, 120.0, 4),
]
# Blur moves mineral across every slab boundary (about sigma/sqrt(2 pi) times the jump in mineral per unit length);
# adjacent segments therefore differ moderately, as cortex thickness does in a femur. See docs/qct-implementation.md.
P0 = CENTER - 55.0 * AXIS
ROWS, COLS = 150, 160
ROW_SP, COL_SP = 0.8, 0.75
X0 = -(COLS - 1) / 2 * COL_SP
Y0 = -(ROWS - 1) / 2 * ROW_SP
NOISE, BLUR_MM = 10.0, 0.4


def hu_of_density(rho):
    return SIGMA_CT * rho + BETA_CT


def render(x, y, z):
    hu = np.full(x.shape, -1000.0)
    hu[(np.abs(x) <= 59.0) & (y >= -45.0) & (y <= 25.0)] = 0.0
    hu[(np.abs(x) <= 50.0) & (y >= 28.0) & (y <= 50.0)] = 0.0
    sigma_ref, beta_ref = SIGMA_CT + 0.2174, BETA_CT - 999.6
    for xr, k, w in zip(ROD_X, K2HPO4, WATER):
        hu[(x - xr) ** 2 + (y - ROD_Y) ** 2 <= ROD_R ** 2] = w + sigma_ref * k + beta_ref
    dx, dy, dz = x - P0[0], y - P0[1], z - P0[2]
    s = dx * AXIS[0] + dy * AXIS[1] + dz * AXIS[2]
    r2 = dx * dx + dy * dy + dz * dz - s * s
    for _, s0, s1, ro, t, rc, rt, _ in SEGMENTS:
        inside = (s >= s0) & (s < s1) & (r2 < ro * ro)
        hu[inside] = np.where(r2[inside] >= (ro - t) ** 2, hu_of_density(rc), hu_of_density(rt))
    return hu


def labels_at(x, y, z):
    dx, dy, dz = x - P0[0], y - P0[1], z - P0[2]
    s = dx * AXIS[0] + dy * AXIS[1] + dz * AXIS[2]
    r2 = dx * dx + dy * dy + dz * dz - s * s
    lab = np.zeros(x.shape, dtype=np.uint16)
    for _, s0, s1, ro, t, rc, rt, label in SEGMENTS:
        lab[(s >= s0) & (s < s1) & (r2 < ro * ro)] = label
    return lab


def truth():
    out = {"sigma_ct": SIGMA_CT, "beta_ct": BETA_CT, "regions": {}}
    rho_m = 1.05
    total = 0.0
    for name, s0, s1, ro, t, rc, rt, label in SEGMENTS:
        if label == 4:
            continue
        ro_cm, ri_cm, l_cm = ro / 10, (ro - t) / 10, (s1 - s0) / 10
        ao, ai = math.pi * ro_cm ** 2, math.pi * ri_cm ** 2
        v_cort, v_trab = (ao - ai) * l_cm, ai * l_cm
        bmc = rc * v_cort + rt * v_trab
        total += bmc
        csmi = (rc * math.pi * (ro_cm ** 4 - ri_cm ** 4) / 4 + rt * math.pi * ri_cm ** 4 / 4) / 1000 / rho_m
        out["regions"][name] = {
            "label": label, "volume_cm3": ao * l_cm, "cortical_volume_cm3": v_cort, "trabecular_volume_cm3": v_trab,
            "bmc_mg": bmc, "abmd_g_cm2": bmc / 1000 / (2 * ro_cm * l_cm), "fnw_cm": 2 * ro_cm,
            "csa_cm2": (rc * (ao - ai) + rt * ai) / 1000 / rho_m, "csmi_cm4": csmi, "z_cm3": csmi / ro_cm,
            "length_cm": l_cm, "rho_c": rc, "rho_t": rt, "cortical_thickness_cm": t / 10,
        }
    out["total_bmc_mg"] = total
    return out


def base_dataset(series_uid, frame_uid, study_uid, sop_class, modality):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid()
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.PatientID = "PHANTOM-01"
    ds.PatientName = "Phantom^Digital"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [ROW_SP, COL_SP]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    return ds


def write_series(folder, slices, zs, series_uid, frame_uid, study_uid, thickness, *, label=False,
                 reverse_instances=False, weight=True, lossy=False):
    os.makedirs(folder, exist_ok=True)
    n = len(zs)
    names = []
    for k, (img, z) in enumerate(zip(slices, zs)):
        ds = base_dataset(series_uid, frame_uid, study_uid,
                          "1.2.840.10008.5.1.4.1.1.7" if label else "1.2.840.10008.5.1.4.1.1.2",
                          "OT" if label else "CT")
        sop = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.SOPInstanceUID = sop
        ds.ImageType = ["DERIVED", "SECONDARY"] if label else ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber = (n - k) if reverse_instances else (k + 1)
        ds.ImagePositionPatient = [X0, Y0, float(z)]
        ds.SliceThickness = thickness
        ds.SliceLocation = float(z)
        if label:
            ds.PixelRepresentation = 0
            ds.PixelData = img.astype("<u2").tobytes()
        else:
            if weight:
                ds.PatientWeight = 56.0
            ds.PatientSize = 1.58
            ds.KVP = 140 if lossy else 120
            ds.Exposure = 300 if lossy else 150
            if lossy:
                ds.LossyImageCompression = "01"
            ds.ConvolutionKernel = "STANDARD"
            ds.PixelRepresentation = 1
            ds.RescaleIntercept = -1024
            ds.RescaleSlope = 1
            ds.PixelData = img.astype("<i2").tobytes()
        name = "%s.dcm" % generate_uid(prefix=None)[-12:]
        names.append(name)
        ds.save_as(os.path.join(folder, name), write_like_original=False)
    return names


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    global ROWS, COLS, ROW_SP, COL_SP, X0, Y0
    out, slice_mm, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    variants = "--variants" in sys.argv
    matrix = option("--matrix", None)
    if matrix is not None:
        ROWS = COLS = int(matrix)
    ROW_SP, COL_SP = (float(v) for v in option("--pixel-mm", "%g,%g" % (ROW_SP, COL_SP)).split(","))
    X0 = -(COLS - 1) / 2 * COL_SP
    Y0 = -(ROWS - 1) / 2 * ROW_SP
    rng = np.random.default_rng(seed)
    nz = int(round(100.0 / slice_mm)) + (1 if slice_mm < 2 else 0)
    zs = [-(nz - 1) / 2 * slice_mm + k * slice_mm for k in range(nz)]
    n_z_samples = 3 if slice_mm <= 1.5 else 5
    offs = np.array([-1 / 3, 0, 1 / 3])
    zoffs = ((np.arange(n_z_samples) + 0.5) / n_z_samples - 0.5) * slice_mm
    xs = X0 + np.arange(COLS) * COL_SP
    ys = Y0 + np.arange(ROWS) * ROW_SP
    # Everything the phantom holds lies within |x| <= 59 mm, -45 <= y <= 50 mm; outside it render() is air.
    # The default (test) grid is rendered whole, as before; a larger matrix only inside that box plus a margin.
    cols = np.nonzero(np.abs(xs) <= 62.0)[0] if matrix is not None else np.arange(COLS)
    rows = np.nonzero((ys >= -48.0) & (ys <= 53.0))[0] if matrix is not None else np.arange(ROWS)
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    ct_slices, lab_slices = [], []
    for z in zs:
        acc = np.zeros((r1 - r0, c1 - c0))
        count = 0
        for oy in offs:
            for ox in offs:
                yy, xx = np.meshgrid(ys[r0:r1] + oy * ROW_SP, xs[c0:c1] + ox * COL_SP, indexing="ij")
                for oz in zoffs:
                    acc += render(xx, yy, np.full(xx.shape, z + oz))
                    count += 1
        img = np.full((ROWS, COLS), -1000.0)
        img[r0:r1, c0:c1] = acc / count
        img = gaussian_filter(img, sigma=(BLUR_MM / ROW_SP, BLUR_MM / COL_SP), mode="nearest")
        img = img + rng.normal(0.0, NOISE, img.shape)
        ct_slices.append(np.clip(np.round(img + 1024.0), -32768, 32767))
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        lab_slices.append(labels_at(xx, yy, np.full(xx.shape, z)))
    study, frame = generate_uid(), generate_uid()
    write_series(os.path.join(out, "ct"), ct_slices, zs, generate_uid(), frame, study, slice_mm)
    write_series(os.path.join(out, "labels"), lab_slices, zs, generate_uid(), frame, study, slice_mm, label=True)
    if variants:
        write_series(os.path.join(out, "ct_rev"), ct_slices, zs, generate_uid(), frame, study, slice_mm, reverse_instances=True)
        write_series(os.path.join(out, "ct_noweight"), ct_slices, zs, generate_uid(), frame, study, slice_mm, weight=False)
        write_series(os.path.join(out, "ct_lossy"), ct_slices, zs, generate_uid(), frame, study, slice_mm, lossy=True)
        neg = os.path.join(out, "neg")
        names = write_series(neg, ct_slices[:1], zs[:1], generate_uid(), frame, study, slice_mm)
        ds = pydicom.dcmread(os.path.join(neg, names[0]))
        ds.Modality = "MR"
        ds.save_as(os.path.join(neg, "mr.dcm"))
        subprocess.run(["gdcmconv", "--jpeg", os.path.join(neg, names[0]), os.path.join(neg, "compressed.dcm")], check=True)
        os.remove(os.path.join(neg, names[0]))
    t = truth()
    t.update({"slice_mm": slice_mm, "row_spacing": ROW_SP, "col_spacing": COL_SP, "slices": nz,
              "neck_axis": [list(P0 + 20 * AXIS), list(P0 + 45 * AXIS)],
              "rods_k2hpo4": K2HPO4, "rods_water": WATER})
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(t, f, indent=1)


if __name__ == "__main__":
    main()
