#!/usr/bin/python3
"""Builds the DICOM reader test corpus with independent tools and dumps pydicom's reading of every file.

Usage: make_corpus.py OUTDIR

1. pydicom writes four small CT series (4 slices, 64x64): signed/unsigned x 12/16 bits stored, with
   multi-valued strings, binary VRs (FD FL SL SS UL AT OF), nested and undefined-length sequences,
   Pixel Padding Value and a non-unit rescale.
2. DCMTK's dcmconv re-encodes each file: implicit LE (+ti), explicit LE (+te), explicit LE with undefined
   lengths (+te -e), explicit BE (+tb), deflated (+td), and bare data sets without meta (-F +ti / -F +te).
3. GDCM's gdcmconv makes compressed copies (JPEG lossless, JPEG 2000, RLE, JPEG-LS).
4. pydicom reads every produced file back; its view (tags and pixel arrays) goes to manifest.json and
   <file>.stored / <file>.rescaled (int32 / float64 little endian).
A file whose high bits (above Bits Stored) hold garbage is added separately: its expected values are
computed with numpy masking and sign extension (pydicom 2.x leaves such bits in place).
Any missing tool makes this script fail (non-zero exit).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ROWS = COLS = 64
NSLICES = 4


def make_slice(series_uid, frame_uid, study_uid, index, signed, bits_stored, rng):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    sop_uid = generate_uid()
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid()
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = "20240131"
    ds.Modality = "CT"
    ds.Manufacturer = "HomaBone Test  "
    ds.PatientName = "Doe^Jane^^Dr"
    ds.PatientID = "HB-0042"
    ds.PatientWeight = "56.5"
    ds.PatientSize = "1.58"
    ds.SliceThickness = "1.25"
    ds.KVP = "120"
    ds.Exposure = "150"
    ds.ConvolutionKernel = "STANDARD"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.SeriesNumber = "3"
    ds.InstanceNumber = str(NSLICES - index)
    ds.ImagePositionPatient = ["-40.5", "-32.25", str(-100 + 1.25 * index)]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["0.703125", "0.75"]
    ds.WindowCenter = ["40", "400"]
    ds.WindowWidth = ["400", "2000"]
    ds.ImageComments = "  leading spaces kept\\backslash kept in LT"
    ds.add_new(0x00081163, "FD", [1.5, -2.25e-7])
    ds.add_new(0x00181320, "FL", 3.25)
    ds.add_new(0x00186020, "SL", -123456)
    ds.add_new(0x00189219, "SS", -321)
    ds.add_new(0x00081161, "UL", [1, 70000, 4000000000])
    ds.add_new(0x00209165, "AT", [0x00200032, 0x7FE00010])
    ds.add_new(0x00181638, "OF", np.array([1.0, -2.5, 3.75], dtype="<f4").tobytes())
    ds.add_new(0x00181009, "UT", "UDI text value")

    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE
    ref.ReferencedSOPInstanceUID = generate_uid()
    ref2 = Dataset()
    ref2.ReferencedSOPClassUID = CT_IMAGE
    ref2.ReferencedSOPInstanceUID = generate_uid()
    ds.ReferencedImageSequence = Sequence([ref, ref2])

    code = Dataset()
    code.CodeValue = "121322"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Source image for image processing operation"
    code.LongCodeValue = "a long code value"
    src = Dataset()
    src.ReferencedSOPClassUID = CT_IMAGE
    src.ReferencedSOPInstanceUID = generate_uid()
    src.add_new(0x0040A170, "SQ", Sequence([code]))
    ds.SourceImageSequence = Sequence([src])
    # undefined-length sequence and item encoding for the nested sequence
    ds[0x00082112].is_undefined_length = True
    src.is_undefined_length_sequence_item = True
    src[0x0040A170].is_undefined_length = True

    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ROWS
    ds.Columns = COLS
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if signed:
        lo, hi = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
        pad = lo
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
    else:
        lo, hi = 0, (1 << bits_stored) - 1
        pad = 0
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "0.5" if bits_stored == 16 else "1"
    ds.RescaleType = "HU"
    values = rng.integers(lo + 1, hi + 1, size=(ROWS, COLS), dtype=np.int64)
    values[0, :5] = [lo + 1, hi, (lo + hi) // 2, lo + 2, hi - 1]
    values[-1, -3:] = pad
    ds.add_new(0x00280120, "SS" if signed else "US", pad)
    arr = values.astype("<i2" if signed else "<u2")
    ds.PixelData = arr.tobytes()
    return ds


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def tag_view(ds, prefix="", little=True):
    """pydicom's values of the tags the C# test checks, keyed by path 'ggggeeee' or 'ggggeeee/i/ggggeeee'."""
    out = {}
    for elem in ds:
        key = prefix + "%08X" % elem.tag
        if elem.tag.group == 0x7FE0:
            continue
        if elem.VR == "SQ":
            out[key] = {"kind": "seq", "count": len(elem.value)}
            for i, item in enumerate(elem.value):
                out.update(tag_view(item, key + "/%d/" % i, little))
            continue
        value = elem.value
        values = list(value) if isinstance(value, (list, pydicom.multival.MultiValue)) else [value]
        if elem.VR in ("DS", "IS"):
            out[key] = {"kind": "num", "values": [float(v) for v in values]}
        elif elem.VR in ("US", "SS", "UL", "SL", "FL", "FD"):
            out[key] = {"kind": "num", "values": [float(v) for v in values]}
        elif elem.VR == "AT":
            out[key] = {"kind": "tag", "values": ["%08X" % int(v) for v in values]}
        elif elem.VR == "OF":
            out[key] = {"kind": "num", "values": [float(v) for v in np.frombuffer(value, dtype="<f4" if little else ">f4")]}  # pydicom keeps OF bytes in file order
        elif elem.VR in ("OB", "OW", "UN"):
            continue
        elif elem.VR in ("LT", "ST", "UT", "UR"):
            # leading spaces are significant in these VRs (PS3.5 Table 6.2-1)
            out[key] = {"kind": "str", "values": [str(v).rstrip(" \0") for v in values]}
        else:
            out[key] = {"kind": "str", "values": [str(v).strip(" \0") for v in values]}
    return out


def dump(path, name, entries, expected_override=None):
    ds = pydicom.dcmread(path, force=True)
    ts = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in ds.file_meta else ""
    if not ts:
        # bare data set: pydicom detected the encoding itself; tell its pixel handler
        ds.file_meta.TransferSyntaxUID = (pydicom.uid.ImplicitVRLittleEndian if ds.is_implicit_VR
                                          else pydicom.uid.ExplicitVRLittleEndian)
    entry = {"file": name, "ts": ts, "compressed": False, "tags": tag_view(ds, little=ds.is_little_endian)}
    if expected_override is None:
        stored = ds.pixel_array.astype(np.int32)
        slope = float(ds.get("RescaleSlope", 1))
        intercept = float(ds.get("RescaleIntercept", 0))
        rescaled = stored.astype(np.float64) * slope + intercept
    else:
        stored, rescaled = expected_override
    stored.astype("<i4").tofile(path + ".stored")
    rescaled.astype("<f8").tofile(path + ".rescaled")
    entry["padding"] = int(ds[0x00280120].value) if 0x00280120 in ds else None
    entries.append(entry)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240601)
    entries = []
    compressed = []
    series = 0
    for signed in (True, False):
        for bits in (16, 12):
            series += 1
            series_uid, frame_uid, study_uid = generate_uid(), generate_uid(), generate_uid()
            for k in range(NSLICES):
                ds = make_slice(series_uid, frame_uid, study_uid, k, signed, bits, rng)
                base = "s%d_%02d" % (series, k)
                src = os.path.join(out, base + "_pydicom.dcm")
                ds.save_as(src, write_like_original=True)
                variants = {
                    "_pydicom.dcm": None,
                    "_ti.dcm": ["+ti"],
                    "_te.dcm": ["+te"],
                    "_teu.dcm": ["+te", "-e"],
                    "_tb.dcm": ["+tb"],
                    "_td.dcm": ["+td"],
                    "_bare_ti.dcm": ["-F", "+ti"],
                    "_bare_te.dcm": ["-F", "+te"],
                }
                for suffix, args in variants.items():
                    dst = os.path.join(out, base + suffix)
                    if args is not None:
                        run(["dcmconv"] + args + [src, dst])
                    dump(dst, base + suffix, entries)
                if k == 0:
                    for flag in ("--jpeg", "--j2k", "--rle", "--jpegls"):
                        dst = os.path.join(out, base + "_" + flag.strip("-") + ".dcm")
                        run(["gdcmconv", flag, src, dst])
                        cds = pydicom.dcmread(dst, stop_before_pixels=True)
                        compressed.append({"file": os.path.basename(dst), "ts": str(cds.file_meta.TransferSyntaxUID),
                                           "name": cds.file_meta.TransferSyntaxUID.name, "compressed": True})

    # Garbage above Bits Stored: expected = mask to 12 bits, sign-extend from bit 11 (numpy oracle).
    ds = make_slice(generate_uid(), generate_uid(), generate_uid(), 0, True, 12, rng)
    raw = np.frombuffer(ds.PixelData, dtype="<u2").copy()
    raw ^= (rng.integers(0, 16, size=raw.shape).astype(np.uint16) << 12)
    ds.PixelData = raw.tobytes()
    path = os.path.join(out, "garbage_high_bits.dcm")
    ds.save_as(path, write_like_original=True)
    masked = (raw.astype(np.int32) & 0x0FFF)
    signed_vals = np.where(masked & 0x0800, masked - 0x1000, masked).reshape(ROWS, COLS)
    dump(path, "garbage_high_bits.dcm", entries, (signed_vals.astype(np.int32), signed_vals.astype(np.float64)))

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"pydicom": pydicom.__version__, "files": entries, "compressed": compressed}, f)


if __name__ == "__main__":
    main()
