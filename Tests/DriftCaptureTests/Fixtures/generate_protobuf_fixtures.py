#!/usr/bin/env python3
"""Golden cases for the protobuf Open Inference Protocol decoder (Seldon Core v2's Kafka payloads).

Messages are built with Python's `protobuf` package from the same schema the Swift code is generated from,
Sources/DriftCapture/Protobuf/v2_dataplane.proto (SeldonIO/seldon-core, branch v2,
apis/mlops/v2_dataplane/v2_dataplane.proto), compiled with grpc_tools.protoc into a temporary folder. The shapes
of the messages follow Seldon's own code paths:
- typed `contents` as Seldon's JSON-to-protobuf gateway fills them (scheduler/pkg/kafka/pipeline/v2.go,
  tensorToV2: INT8/16/32 in int_contents, UINT8/16/32 in uint_contents, FP16 and FP32 in fp32_contents, BYTES in
  bytes_contents);
- raw contents as the protocol defines them and Seldon reads them back (v2.go, updateResponseFromRawContents and
  convertRawBytesToByteContents: little-endian, BYTES elements with a 4-byte little-endian length prefix), the
  bytes made with numpy;
- schema-registry framing as confluent-kafka-go's protobuf serializer writes it when Seldon has a schema registry
  (scheduler/pkg/kafka/gateway/worker.go, serializeModelInferRespWithSchemaRegistry): byte 0, a big-endian 4-byte
  schema id, message indexes [0] written as a single 0 byte;
plus hostile bodies with the error path and reason the decoder must report. Fixed seed; writes protobuf_cases.json.

    pip install grpcio-tools numpy
    python3 Tests/DriftCaptureTests/Fixtures/generate_protobuf_fixtures.py
"""
import base64
import importlib
import json
import os
import struct
import sys
import tempfile

import numpy as np
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROTO_DIR = os.path.join(ROOT, "Sources", "DriftCapture", "Protobuf")
rng = np.random.default_rng(20261130)


def compile_schema():
    out = tempfile.mkdtemp(prefix="oip-proto-")
    rc = protoc.main(["protoc", f"--proto_path={PROTO_DIR}", f"--python_out={out}", os.path.join(PROTO_DIR, "v2_dataplane.proto")])
    if rc != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    return importlib.import_module("v2_dataplane_pb2")


pb = compile_schema()

NP = {"BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1", "INT16": "<i2",
      "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}
TYPED = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
         "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
         "UINT64": "uint64_contents", "FP16": "fp32_contents", "FP32": "fp32_contents", "FP64": "fp64_contents",
         "BYTES": "bytes_contents"}


def expected(name, datatype, shape, values):
    if datatype == "BOOL":
        v = {"bools": [bool(b) for b in values]}
    elif datatype == "BYTES":
        v = {"strings": [b.decode("utf-8") for b in values]}
    else:
        v = {"numbers": [float(x) for x in values]}
    return {"name": name, "datatype": datatype, "shape": list(shape), **v}


def typed(tensor, name, datatype, shape, values):
    """Fills a tensor's typed contents the way Seldon's gateway does; returns the expected tensor."""
    tensor.name, tensor.datatype = name, datatype
    tensor.shape.extend(shape)
    field = getattr(tensor.contents, TYPED[datatype])
    field.extend(values)
    if datatype == "FP16" or datatype == "FP32":
        back = np.asarray(values, dtype="<f4").astype(float)  # fp32_contents holds float32
    elif datatype == "BYTES":
        back = values
    else:
        back = values
    return expected(name, datatype, shape, back)


def raw(tensor, name, datatype, shape, values):
    """Sets name/datatype/shape; returns (raw bytes, expected tensor)."""
    tensor.name, tensor.datatype = name, datatype
    tensor.shape.extend(shape)
    if datatype == "BYTES":
        data = b"".join(struct.pack("<I", len(s)) + s for s in values)
        return data, expected(name, datatype, shape, values)
    if datatype == "BF16":
        f32 = np.asarray(values, dtype="<f4")
        data = (f32.view("<u4") >> 16).astype("<u2").tobytes()
        back = (np.frombuffer(data, dtype="<u2").astype("<u4") << 16).view("<f4")
        return data, expected(name, datatype, shape, back.astype(float))
    a = np.asarray(values).astype(NP[datatype])
    data = a.tobytes()
    back = np.frombuffer(data, dtype=NP[datatype])
    return data, expected(name, datatype, shape, back.tolist() if datatype == "BOOL" else back.astype(float))


cases = []


def ok(name, message, tensors, response, framed=False):
    body = message.SerializeToString()
    if framed:
        body = b"\x00" + struct.pack(">I", 17) + b"\x00" + body
    cases.append({"name": name, "body": base64.b64encode(body).decode(), "response": response,
                  "id": message.id or None, "model_name": message.model_name or None,
                  "model_version": message.model_version or None, "tensors": tensors})


def bad(name, body, response, path, reason, contains):
    cases.append({"name": name, "body": base64.b64encode(body).decode(), "response": response,
                  "error_path": path, "error_reason": reason, "error_contains": contains})


# 1. a request with typed contents: FP32 features, INT64 ids (beyond 2^53 too), BYTES categories, BOOL flags
req = pb.ModelInferRequest(model_name="iris", model_version="1", id="req-0001")
t = []
t.append(typed(req.inputs.add(), "features", "FP32", [2, 3], [float(x) for x in rng.normal(size=6)]))
t.append(typed(req.inputs.add(), "account", "INT64", [2, 1], [-(2**40) - 7, 2**53 + 2]))
t.append(typed(req.inputs.add(), "city", "BYTES", [2, 1], ["New York, NY".encode(), "Zürich".encode()]))
t.append(typed(req.inputs.add(), "flag", "BOOL", [2], [True, False]))
req.outputs.add(name="predict")  # a request that names the outputs it wants is still a request
ok("request typed contents FP32 INT64 BYTES BOOL", req, t, False)

# 2. its response with typed contents, as a model server answers (the id echoed, Seldon's internal model name)
res = pb.ModelInferResponse(model_name="iris_1", id="req-0001")
t = []
t.append(typed(res.outputs.add(), "predict", "FP64", [2, 1], [0.125, 0.875]))
t.append(typed(res.outputs.add(), "label", "INT32", [2], [-3, 2**31 - 1]))
t.append(typed(res.outputs.add(), "bucket", "UINT8", [2], [0, 255]))
t.append(typed(res.outputs.add(), "code", "UINT64", [2], [2**64 - 1, 7]))
ok("response typed contents FP64 INT32 UINT8 UINT64", res, t, True)

# 3. FP16 in fp32_contents, as Seldon's JSON gateway converts it (v2.go: case tyFp16, tyFp32)
req = pb.ModelInferRequest(id="req-0002")
t = [typed(req.inputs.add(), "half", "FP16", [1, 4], [0.5, -1.25, 65504.0, 0.0009765625])]
t.append(typed(req.inputs.add(), "small", "INT8", [1, 2], [-128, 127]))
t.append(typed(req.inputs.add(), "port", "UINT16", [1, 1], [65535]))
ok("request FP16 in fp32_contents, INT8 and UINT16 typed", req, t, False)

# 4. a request with raw_input_contents: FP16, INT64, BYTES, UINT16, INT8 (little-endian, made by numpy)
req = pb.ModelInferRequest(model_name="fraud", id="req-0003")
t = []
for name, dt, shape, values in [
        ("half", "FP16", [2, 2], [0.1, -2.5, 65504.0, 6.0e-8]),
        ("big", "INT64", [2, 2], [-(2**63), 2**63 - 1, 2**53 + 1, -5]),
        ("text", "BYTES", [2, 1], ["électronique".encode(), b""]),
        ("u16", "UINT16", [2], [1, 65535]),
        ("i8", "INT8", [2], [-128, 127])]:
    data, e = raw(req.inputs.add(), name, dt, shape, values)
    req.raw_input_contents.append(data)
    t.append(e)
ok("request raw contents FP16 INT64 BYTES UINT16 INT8", req, t, False)

# 5. a response with raw_output_contents: FP32, BF16, BOOL, UINT32, FP64
res = pb.ModelInferResponse(model_name="fraud", model_version="7", id="req-0003")
t = []
for name, dt, shape, values in [
        ("score", "FP32", [2, 1], [float(x) for x in rng.random(2)]),
        ("brain", "BF16", [2, 1], [3.140625, -0.5]),
        ("fraud", "BOOL", [2], [True, False]),
        ("count", "UINT32", [2], [0, 2**32 - 1]),
        ("p", "FP64", [2], [float(x) for x in rng.random(2)])]:
    data, e = raw(res.outputs.add(), name, dt, shape, values)
    res.raw_output_contents.append(data)
    t.append(e)
ok("response raw contents FP32 BF16 BOOL UINT32 FP64", res, t, True)

# 6. schema-registry framing (confluent-kafka-go protobuf serializer: 0, schema id, message index [0])
res = pb.ModelInferResponse(model_name="iris_1", id="req-0004")
t = [typed(res.outputs.add(), "predict", "FP32", [1, 1], [0.75])]
ok("response framed for a schema registry", res, t, True, framed=True)

# 7. an empty tensor (shape with a zero dimension) and no id
req = pb.ModelInferRequest()
t = [typed(req.inputs.add(), "none", "FP32", [0, 3], [])]
ok("request with an empty tensor and no id", req, t, False)

# --- hostile and malformed bodies ------------------------------------------------------------------------------
good = pb.ModelInferRequest(id="x")
typed(good.inputs.add(), "f", "FP32", [1, 4], [1.0, 2.0, 3.0, 4.0])
body = good.SerializeToString()
bad("truncated body", body[:-3], False, "inputs[0]", "malformed", "truncated")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [-1, 4], [1.0] * 4)
bad("negative shape", m.SerializeToString(), False, "inputs[0].shape[0]", "invalid_value", "is -1")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [2**40, 2**40, 16], [1.0])
bad("shape product overflows Int", m.SerializeToString(), False, "inputs[0].shape", "too_large", "overflow")

# a zero dimension makes the tensor empty, but the other dimensions must still multiply without overflow
# (consumers compute rows × row width)
m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [2**62, 0, 2**62], [])
bad("zero dimension beside an overflowing product", m.SerializeToString(), False, "inputs[0].shape", "too_large", "overflow")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [0, 2**40], [])
cases.append({"name": "zero rows of a wide tensor are empty", "body": base64.b64encode(m.SerializeToString()).decode(),
              "response": False, "id": None, "model_name": None, "model_version": None,
              "tensors": [{"name": "f", "datatype": "FP32", "shape": [0, 2**40], "numbers": []}]})

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [99000, 0], [])
bad("rows of nothing", m.SerializeToString(), False, "inputs[0].shape", "invalid_value", "claims 99000 rows")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [100000, 100000], [1.0])
bad("shape over the element limit", m.SerializeToString(), False, "inputs[0].shape", "too_large", "elements allowed per tensor")

m = pb.ModelInferRequest()
tt = m.inputs.add(name="f", datatype="INT64")
tt.shape.extend([1, 4])
m.raw_input_contents.append(struct.pack("<3q", 1, 2, 3))  # 24 bytes, the shape needs 32
bad("raw contents shorter than the shape", m.SerializeToString(), False, "raw_input_contents[0]", "invalid_value", "the shape needs 4 elements")

m = pb.ModelInferRequest()
tt = m.inputs.add(name="s", datatype="BYTES")
tt.shape.extend([1])
m.raw_input_contents.append(struct.pack("<I", 1000) + b"abc")  # the length prefix claims 1000 bytes
bad("BYTES length prefix lies", m.SerializeToString(), False, "raw_input_contents[0]", "invalid_value", "claims 1000 bytes")

m = pb.ModelInferRequest()
tt = m.inputs.add(name="s", datatype="BYTES")
tt.shape.extend([1])
m.raw_input_contents.append(struct.pack("<I", 0) * 5)  # five empty elements for a shape of one
bad("BYTES raw contents hold more elements than the shape", m.SerializeToString(), False, "raw_input_contents[0]", "invalid_value", "more than the 1 BYTES elements")

m = pb.ModelInferRequest()
tt = m.inputs.add(name="f", datatype="FP32")
tt.shape.extend([1])
m.raw_input_contents.extend([struct.pack("<f", 1.0), struct.pack("<f", 2.0)])
bad("more raw contents than tensors", m.SerializeToString(), False, "raw_input_contents", "invalid_value", "one per tensor")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "INT64", [2], [1, 2])
m.inputs[0].contents.fp32_contents.append(1.0)
bad("contents in the wrong typed field", m.SerializeToString(), False, "inputs[0].contents.fp32_contents", "invalid_value", "int64_contents")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "INT8", [1], [300])
bad("INT8 value out of range", m.SerializeToString(), False, "inputs[0].contents.int_contents[0]", "invalid_value", "out of range for INT8")

m = pb.ModelInferRequest()
typed(m.inputs.add(), "f", "FP32", [2, 2], [1.0, 2.0, 3.0])
bad("fewer values than the shape", m.SerializeToString(), False, "inputs[0].contents", "invalid_value", "needs 4")

m = pb.ModelInferRequest()
m.inputs.add(name="f", datatype="FP8").shape.extend([1])
bad("unknown datatype", m.SerializeToString(), False, "inputs[0].datatype", "invalid_value", "not one of")

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def ld(field, payload):
    """A length-delimited field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


# depth bombs: protobuf groups (wire types 3/4) nest without lengths
bad("depth bomb of nested groups", b"\x0b" * 10000, False, "body", "malformed", "wire type 3")
# ... also where the census does not look: inside a parameter value (inputs[0].parameters["k"]), 20,000 groups deep
groups = b"\x4b" * 20000 + b"\x4c" * 20000  # field 9 start-group / end-group
entry = ld(1, b"k") + ld(2, groups)
tensor = ld(1, b"f") + ld(2, b"FP32") + ld(3, b"\x00") + ld(4, entry)
bad("depth bomb of nested groups in a parameter", ld(5, tensor), False, "body", "malformed", "")
# 5,000 nested messages in an unknown field of contents: skipped whole (never parsed), so it decodes
deep = b""
for _ in range(5000):
    deep = ld(1, deep)
tensor = ld(1, b"f") + ld(2, b"FP32") + ld(3, b"\x00") + ld(5, ld(9, deep))
cases.append({"name": "nested messages in an unknown field are skipped", "body": base64.b64encode(ld(5, tensor)).decode(),
              "response": False, "id": None, "model_name": None, "model_version": None,
              "tensors": [{"name": "f", "datatype": "FP32", "shape": [0], "numbers": []}]})

bad("not protobuf at all", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", False, "body", "malformed", "")
bad("empty body", b"", True, "body", "malformed", "is empty")
bad("schema-registry header truncated", b"\x00\x00\x00", True, "body", "malformed", "schema-registry")

# a lying packed length: inputs[0] declares 2^31 bytes of contents
bad("length-delimited field longer than the body", b"\x2a\x80\x80\x80\x80\x08\x0a\x01f", False, "inputs[0]", "malformed", "truncated")

# a request whose typed contents exceed the per-request element limit is refused before decoding (limits in the test)
m = pb.ModelInferRequest()
typed(m.inputs.add(), "a", "FP32", [3000], [0.5] * 3000)
typed(m.inputs.add(), "b", "FP32", [3000], [0.5] * 3000)
bad("elements over the per-request limit (test limits 5000)", m.SerializeToString(), False, "inputs", "too_large", "per request")

with open(os.path.join(HERE, "protobuf_cases.json"), "w") as f:
    json.dump({"generator": "generate_protobuf_fixtures.py", "cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(cases)} cases")
