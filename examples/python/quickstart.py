#!/usr/bin/python3
"""HomaBone quickstart: an independent Python grpcio client (stubs generated from protos/ at run time).

Usage: /usr/bin/python3 examples/python/quickstart.py [host:port]   (default 127.0.0.1:5080)
Needs Debian's python3-grpcio, python3-grpc-tools, protobuf-compiler and protobuf-compiler-grpc.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import grpc
import importlib.resources

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"


def generate_stubs() -> pathlib.Path:
    """Python stubs from protos/ with Debian's protoc (>= 3.15 for proto3 'optional') and grpc_python_plugin."""
    out = pathlib.Path(tempfile.mkdtemp(prefix="homabone-stubs-"))
    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    files = [str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto")]
    subprocess.run(["protoc", f"-I{PROTOS}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}",
                    f"--plugin=protoc-gen-grpc_python={shutil.which('grpc_python_plugin')}", *files], check=True)
    # No __init__.py files: homabone/ and google/ stay namespace packages, so google.protobuf still resolves.
    return out


def main() -> None:
    address = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HOMABONE_ADDRESS", "127.0.0.1:5080")
    sys.path.insert(0, str(generate_stubs()))
    from homabone.v1 import cohort_pb2, cohort_pb2_grpc, common_pb2, participant_pb2, participant_pb2_grpc

    # The published retry policy: UNAVAILABLE only, with backoff (also served at http://<gateway>:5081/grpc-service-config.json).
    service_config = (PROTOS / "homabone" / "v1" / "grpc_service_config.json").read_text()
    channel = grpc.insecure_channel(address, options=[  # plaintext HTTP/2: the loopback development default
        ("grpc.service_config", service_config), ("grpc.enable_retries", 1)])
    cohorts = cohort_pb2_grpc.CohortServiceStub(channel)
    participants = participant_pb2_grpc.ParticipantServiceStub(channel)

    cohort_id = "quickstart-" + uuid.uuid4().hex[:8]
    cohort = cohorts.CreateCohort(cohort_pb2.CreateCohortRequest(cohort_id=cohort_id)).cohort

    record = participant_pb2.ParticipantRecord(
        demographics=participant_pb2.Demographics(sex=participant_pb2.SEX_FEMALE, age_years=57, menstrual_flow_within_12_months=False),
        anthropometry=participant_pb2.Anthropometry(height_cm=156.2, weight_kg=57.4),
        labs=participant_pb2.Labs(
            glucose=common_pb2.Quantity(value=5.3, unit="mmol/L"),  # converted to mg/dL (x 18) on ingest
            insulin=common_pb2.Quantity(value=7.2, unit="uIU/mL"),
        ),
    )
    name = f"{cohort.name}/participants/p-001"
    written = participants.UpsertParticipant(participant_pb2.UpsertParticipantRequest(
        participant=participant_pb2.Participant(name=name, record=record), request_id="quickstart-1")).participant
    read = participants.GetParticipant(participant_pb2.GetParticipantRequest(name=name)).participant

    # Errors are rich: INVALID_ARGUMENT carries google.rpc.BadRequest field violations.
    bad = participant_pb2.ParticipantRecord(anthropometry=participant_pb2.Anthropometry(weight_kg=float("nan")))
    try:
        participants.UpsertParticipant(participant_pb2.UpsertParticipantRequest(
            participant=participant_pb2.Participant(name=f"{cohort.name}/participants/p-bad", record=bad)))
        error_code = "OK"
    except grpc.RpcError as error:
        error_code = error.code().name

    print(json.dumps({
        "cohort": cohort.name,
        "groups": cohort.settings.group_count,
        "participant": read.name,
        "revision": read.revision,
        "etag_matches": read.etag == written.etag,
        "age_years": read.record.demographics.age_years,
        "bad_record_status": error_code,
    }))


if __name__ == "__main__":
    main()
