#!/usr/bin/env python3
"""Golden cases for the Open Inference Protocol (V2) decoder: JSON bodies (flat and nested data, every
datatype) and the binary tensor extension (little-endian tensors after a JSON header of
Inference-Header-Content-Length bytes, BYTES elements with 4-byte little-endian length prefixes), built
with numpy so that FP16/BF16/INT/UINT bytes and the expected values come from an independent implementation;
plus malformed bodies with the error path the decoder must name. Fixed seed; writes oip_cases.json.

The layout follows triton-inference-server/server docs/protocol/extension_binary_data.md (the JSON header,
`parameters.binary_data_size`, tensors in order, BYTES as 4-byte little-endian length + bytes) and KServe's
Open Inference Protocol REST spec (kserve/kserve docs: inputs/outputs with name, shape, datatype, data). The
binary cases are also decoded without Inference-Header-Content-Length by the Swift test, as KServe's logger
(kserve/kserve pkg/logger) forwards only the body.

    python3 Tests/DriftCaptureTests/Fixtures/generate_oip_fixtures.py
"""
import base64
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261129)


def num(x):
    x = float(x)
    if np.isnan(x):
        return "NaN"
    if np.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def expected(name, datatype, shape, values):
    if datatype == "BOOL":
        v = {"bools": [bool(b) for b in values]}
    elif datatype == "BYTES":
        v = {"strings": [b.decode("utf-8") for b in values]}
    else:
        v = {"numbers": [num(x) for x in values]}
    return {"name": name, "datatype": datatype, "shape": list(shape), **v}


def binary_tensor(name, datatype, shape, array=None, strings=None):
    """(json header entry, raw bytes, expected tensor)."""
    if datatype == "BYTES":
        raw = b"".join(struct.pack("<I", len(s)) + s for s in strings)
        exp = expected(name, datatype, shape, strings)
    elif datatype == "BF16":
        f32 = np.asarray(array, dtype="<f4")
        raw = (f32.view("<u4") >> 16).astype("<u2").tobytes()  # truncate to bfloat16
        back = (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4")
        exp = expected(name, datatype, shape, back.astype(float))
    else:
        dt = {"BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1", "INT16": "<i2",
              "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}[datatype]
        a = np.asarray(array).astype(dt)
        raw = a.tobytes()
        back = np.frombuffer(raw, dtype=dt)
        exp = expected(name, datatype, shape, back.tolist() if datatype == "BOOL" else back.astype(float))
    head = {"name": name, "datatype": datatype, "shape": list(shape), "parameters": {"binary_data_size": len(raw)}}
    return head, raw, exp


def case(name, body, header_length=None, **expect):
    return {"name": name, "body": base64.b64encode(body).decode(), "header_length": header_length, **expect}


def main():
    cases = []
    x = rng.normal(size=(2, 3)).astype(np.float32)
    req = {"id": "req-1", "inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": x.flatten().tolist()}]}
    cases.append(case("json_fp32_flat", json.dumps(req).encode(), id="req-1", response=False,
                      tensors=[expected("input-0", "FP32", [2, 3], x.flatten().astype(float))]))
    i64 = [[1, -2], [3, 9007199254740993]]
    req = {"inputs": [{"name": "ids", "shape": [2, 2], "datatype": "INT64", "data": i64}]}
    cases.append(case("json_int64_nested", json.dumps(req).encode(), response=False,
                      tensors=[expected("ids", "INT64", [2, 2], [float(v) for row in i64 for v in row])]))
    req = {"id": "r2", "inputs": [{"name": "merchant", "shape": [3], "datatype": "BYTES", "data": ["grocery", "crypto_exchange", "ünïcode"]},
                                  {"name": "flag", "shape": [3, 1], "datatype": "BOOL", "data": [[True], [False], [True]]}]}
    cases.append(case("json_bytes_and_bool", json.dumps(req, ensure_ascii=False).encode(), id="r2", response=False,
                      tensors=[expected("merchant", "BYTES", [3], [s.encode() for s in ["grocery", "crypto_exchange", "ünïcode"]]),
                               expected("flag", "BOOL", [3, 1], [True, False, True])]))
    resp = {"model_name": "fraud", "model_version": "v3", "id": "req-1",
            "outputs": [{"name": "score", "shape": [2, 1], "datatype": "FP64", "data": [0.125, 0.9375]}]}
    cases.append(case("json_response", json.dumps(resp).encode(), id="req-1", model_name="fraud", model_version="v3", response=True,
                      tensors=[expected("score", "FP64", [2, 1], [0.125, 0.9375])]))

    # Binary tensor extension: every fixed-size datatype, FP16 specials, BF16, BYTES, mixed with a JSON tensor.
    parts = [
        binary_tensor("half", "FP16", [2, 4], np.array([1.0, -2.5, 65504.0, 6.0e-8, 1e-5, np.inf, -0.0, 0.333], dtype=np.float32)),
        binary_tensor("brain", "BF16", [2, 2], np.array([1.0, -3.14159, 1e30, 2.5e-3], dtype=np.float32)),
        binary_tensor("f32", "FP32", [3], rng.normal(size=3)),
        binary_tensor("f64", "FP64", [2], [np.pi, -1e-300]),
        binary_tensor("i8", "INT8", [4], [-128, -1, 0, 127]),
        binary_tensor("i16", "INT16", [2], [-32768, 32767]),
        binary_tensor("i32", "INT32", [2], [-2147483648, 2147483647]),
        binary_tensor("i64", "INT64", [2], [-(2 ** 53), 2 ** 40 + 1]),
        binary_tensor("u8", "UINT8", [2], [0, 255]),
        binary_tensor("u16", "UINT16", [1], [65535]),
        binary_tensor("u32", "UINT32", [1], [4294967295]),
        binary_tensor("u64", "UINT64", [1], [2 ** 53]),
        binary_tensor("b", "BOOL", [3], [True, False, True]),
        binary_tensor("text", "BYTES", [2, 1], strings=[b"pos", "Zürich".encode()]),
    ]
    inputs = [p[0] for p in parts]
    inputs.insert(3, {"name": "inline", "shape": [2], "datatype": "FP32", "data": [0.5, 1.5]})
    header = json.dumps({"id": "bin-1", "inputs": inputs}).encode()
    body = header + b"".join(p[1] for p in parts)
    exp = [p[2] for p in parts]
    exp.insert(3, expected("inline", "FP32", [2], [0.5, 1.5]))
    cases.append(case("binary_extension_every_datatype", body, header_length=len(header), id="bin-1", response=False, tensors=exp))

    # Malformed bodies: the decoder must name the path and the problem.
    bad = lambda name, body, path, contains, header_length=None: cases.append(
        case(name, body, header_length=header_length, error_path=path, error_contains=contains))
    bad("shape_data_mismatch", json.dumps({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]}).encode(),
        "inputs[0].data", "has 5 values, shape [2,3] needs 6")
    bad("unknown_datatype", json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}]}).encode(),
        "inputs[0].datatype", "is \"FLOAT\", not one of")
    bad("string_in_numeric", json.dumps({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1.5, "2.5"]}]}).encode(),
        "inputs[0].data[1]", "is a string, a FP32 tensor needs numbers")
    bad("fraction_in_int", json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "INT32", "data": [1.5]}]}).encode(),
        "inputs[0].data[0]", "a INT32 tensor needs integers")
    bad("truncated_json", b'{"inputs": [{"name": "x", "shape": [1], "datatyp', "body", "is not valid JSON")
    bad("missing_name", json.dumps({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}).encode(), "inputs[0].name", "is missing")
    bad("not_oip", json.dumps({"instances": [[1, 2]]}).encode(), "body", "has neither \"inputs\" nor \"outputs\"")
    head, raw, _ = binary_tensor("h", "FP16", [4], [1, 2, 3, 4])
    header = json.dumps({"inputs": [dict(head, parameters={"binary_data_size": 6})]}).encode()
    bad("binary_size_mismatch", header + raw[:6], "inputs[0].parameters.binary_data_size", "is 6 bytes, shape needs 4 × 2 = 8 for FP16",
        header_length=len(header))
    header = json.dumps({"inputs": [head]}).encode()
    bad("binary_truncated", header + raw[:5], "inputs[0].parameters.binary_data_size", "only 5 bytes of binary data remain",
        header_length=len(header))
    bad("binary_leftover", header + raw + b"\x00\x01", "body", "2 bytes of binary data that no tensor", header_length=len(header))
    bad("header_length_too_big", header, "Inference-Header-Content-Length", "but the body has only", header_length=len(header) + 10)
    head_b, raw_b, _ = binary_tensor("s", "BYTES", [1], strings=[b"abcdef"])
    header = json.dumps({"inputs": [dict(head_b, parameters={"binary_data_size": 7})]}).encode()
    bad("bytes_length_prefix_overrun", header + raw_b[:7], "inputs[0]", "claims 6 bytes but only 3 remain", header_length=len(header))
    bad("too_many_elements", json.dumps({"inputs": [{"name": "x", "shape": [1000, 10000], "datatype": "FP32", "data": []}]}).encode(),
        "inputs[0].shape", "more than the 1000000 elements allowed")

    with open(os.path.join(HERE, "oip_cases.json"), "w") as f:
        json.dump({"generator": "generate_oip_fixtures.py", "numpy": np.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.join(HERE, 'oip_cases.json')}")


if __name__ == "__main__":
    main()
