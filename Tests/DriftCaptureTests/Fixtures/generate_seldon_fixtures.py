#!/usr/bin/env python3
"""Golden cases for the SeldonMessage decoder (Seldon Core v1's default payload) and for Seldon's request-logger
CloudEvents. Fixed seed; writes seldon_cases.json.

    python3 Tests/DriftCaptureTests/Fixtures/generate_seldon_fixtures.py

Sources followed (SeldonIO/seldon-core, tag v1.18.2):
- proto/prediction.proto: SeldonMessage {status, meta, oneof data_oneof {DefaultData data, bytes binData,
  string strData, google.protobuf.Value jsonData, Any customData}}, DefaultData {names, oneof {Tensor tensor,
  ListValue ndarray, TensorProto tftensor}}, Tensor {repeated int32 shape, repeated double values}, Meta {puid,
  tags, routing, requestPath, metrics}.
- python/seldon_core/utils.py: array_to_rest_datadef (how a client's request body is built: "tensor" is
  {"shape": array.shape, "values": array.ravel().tolist()}, "ndarray" is array.tolist()), construct_response_json
  (how the wrapper answers: the request's data type is kept for numeric results, ndarray otherwise; names are the
  model's class names, "t:0", "t:1", ... by default (user_model.client_class_names); dict results become
  jsonData, str strData, bytes base64 binData; meta carries puid, tags, metrics, requestPath {model: image}).
- tftensor: tensorflow/python/framework/tensor_util.py make_tensor_proto writes numeric numpy arrays as
  tensor_content (little-endian bytes) and json_format.MessageToJson writes int64 sizes as strings and bytes as
  base64 (tensorflow/core/framework/tensor.proto field names floatVal, int64Val, stringVal, ...).
- executor/logger/worker.go and executor/predictor/predictor_process.go (logPayload): binary-mode CloudEvents
  (cloudevents sdk-go HTTPBinaryV1) with Ce-Id = a fresh uuid per event, Ce-Type io.seldon.serving.inference.request
  | .response | io.seldon.serving.feedback, Ce-Source = the executor's server URL, Ce-Time (WithTimeNow), and the
  extensions Ce-Modelid (graph node name), Ce-Requestid (the Seldon-Puid, shared by request and response),
  (a feedback: the Seldon-Puid of the feedback call, logged by PredictorProcess.Feedback),
  Ce-Inferenceservicename (SeldonDeployment), Ce-Namespace, Ce-Endpoint (predictor name), Ce-Protocol.
"""
import base64
import json
import os
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261201)


def scalar(v):
    """Expected decoded scalar, tagged: {"n": number | "NaN" | "Infinity" | "-Infinity"}, {"s": str}, {"b": bool}, {"null": true}."""
    if v is None:
        return {"null": True}
    if isinstance(v, (bool, np.bool_)):
        return {"b": bool(v)}
    if isinstance(v, str):
        return {"s": v}
    x = float(v)
    if np.isnan(x):
        return {"n": "NaN"}
    if np.isinf(x):
        return {"n": "Infinity" if x > 0 else "-Infinity"}
    return {"n": x}


def rows_named(array2d, names):
    """Expected rows of a 2-D (or deeper) array with one name per column: field j holds column j's elements."""
    out = []
    for row in array2d:
        out.append([[n, [scalar(x) for x in np.asarray(row[j], dtype=object).ravel().tolist()]] for j, n in enumerate(names)])
    return out


def rows_positional(array2d):
    return [[["", [scalar(x) for x in np.asarray(row, dtype=object).ravel().tolist()]]] for row in array2d]


def array_to_rest_datadef(data_type, array, names):
    """seldon_core.utils.array_to_rest_datadef (tftensor built as make_tensor_proto + MessageToJson would)."""
    datadef = {"names": names}
    if data_type == "tensor":
        datadef["tensor"] = {"shape": list(array.shape), "values": array.ravel().tolist()}
    elif data_type == "tftensor":
        datadef["tftensor"] = tftensor_json(array)
    else:
        datadef["ndarray"] = array.tolist()
    return datadef


TF_DTYPES = {np.dtype("float32"): "DT_FLOAT", np.dtype("float64"): "DT_DOUBLE", np.dtype("int32"): "DT_INT32",
             np.dtype("int64"): "DT_INT64", np.dtype("bool"): "DT_BOOL", np.dtype("uint8"): "DT_UINT8",
             np.dtype("int16"): "DT_INT16", np.dtype("float16"): "DT_HALF"}


def tftensor_json(array):
    """make_tensor_proto(numpy array) + MessageToJson: dtype, tensorShape.dim[].size as strings, tensorContent."""
    proto = {"dtype": TF_DTYPES[array.dtype], "tensorShape": {"dim": [{"size": str(d)} for d in array.shape]}}
    proto["tensorContent"] = base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode()
    return proto


def construct_response_json(request, result, class_names=None, puid=None, model="classifier", image="seldonio/sklearnserver:1.18.2"):
    """seldon_core.utils.construct_response_json for a numeric or non-numeric numpy result (is_request=False)."""
    response = {}
    if isinstance(result, dict):
        response["jsonData"] = result
    elif isinstance(result, (bytes, bytearray)):
        response["binData"] = base64.b64encode(result).decode("utf-8")
    elif isinstance(result, str):
        response["strData"] = result
    else:
        arr = np.asarray(result)
        response["data"] = {}
        if "data" in request and np.issubdtype(arr.dtype, np.number):
            if "tensor" in request["data"]:
                response["data"]["tensor"] = {"values": arr.ravel().tolist(), "shape": list(arr.shape)}
            elif "tftensor" in request["data"]:
                response["data"]["tftensor"] = tftensor_json(arr)
            else:
                response["data"]["ndarray"] = arr.tolist()
        elif np.issubdtype(arr.dtype, np.number):
            response["data"]["tensor"] = {"values": arr.ravel().tolist(), "shape": list(arr.shape)}
        else:
            response["data"]["ndarray"] = arr.tolist()
        # user_model.client_class_names: "t:i" per column when the model defines no class_names
        response["data"]["names"] = class_names or (["t:{}".format(i) for i in range(arr.shape[1])] if arr.ndim > 1 else [])
    response["meta"] = {}
    if puid:
        response["meta"]["puid"] = puid
    response["meta"]["requestPath"] = {model: image}
    return response


cases = []


def ok(name, body, rows, puid=None):
    cases.append({"name": name, "body": json.dumps(body), "rows": rows, "id": puid})


def err(name, body, path, contains, reason):
    text = body if isinstance(body, str) else json.dumps(body)
    cases.append({"name": name, "body": text, "error_path": path, "error_contains": contains, "error_reason": reason})


names = ["age", "income", "hours"]
features = np.round(rng.normal(40, 10, size=(3, 3)), 3)
probs = np.round(rng.dirichlet([1, 1], size=3), 6)

# 1. ndarray request with names, its ndarray response with the default class names and meta
req = {"data": array_to_rest_datadef("ndarray", features, names)}
ok("ndarray request with names", req, rows_named(features, names))
resp = construct_response_json(req, probs, puid="a1b2c3")
ok("ndarray response with class names t:0 t:1 and meta", resp, rows_named(probs, ["t:0", "t:1"]), puid="a1b2c3")

# 2. tensor request (shape [B, n]) and its tensor response
req = {"data": array_to_rest_datadef("tensor", features, names), "meta": {"puid": "p-2", "tags": {"team": "risk"}}}
ok("tensor request with names and meta", req, rows_named(features, names), puid="p-2")
resp = construct_response_json(req, probs, class_names=["no", "yes"])
ok("tensor response with class names", resp, rows_named(probs, ["no", "yes"]))
ok("tensor without names is positional", {"data": array_to_rest_datadef("tensor", features, [])}, rows_positional(features))

# 3. deeper tensor: [B, n, k] with n names, each column holds k elements
cube = np.round(rng.normal(size=(2, 2, 3)), 4)
ok("3-D tensor: names name the second dimension", {"data": array_to_rest_datadef("tensor", cube, ["left", "right"])},
   rows_named(cube, ["left", "right"]))

# 4. ndarray rows of mixed types (strings are categorical features)
mixed = [[35, "Private", "Bachelors"], [52, "Self-emp", "Masters"]]
ok("ndarray rows of mixed types", {"data": {"names": ["age", "workclass", "education"], "ndarray": mixed}},
   [[[n, [scalar(v)]] for n, v in zip(["age", "workclass", "education"], row)] for row in mixed])

# 5. 1-D ndarray: a batch of single values (an NLP batch of texts), or with as many names as values one row
texts = ["good movie", "bad plot", "fine"]
ok("1-D ndarray of strings is a batch of rows", {"data": {"ndarray": texts}}, [[["", [scalar(t)]]] for t in texts])
ok("1-D ndarray with one name per value is one row", {"data": {"names": names, "ndarray": [1.5, 2.5, 3.5]}},
   [[[n, [scalar(v)]] for n, v in zip(names, [1.5, 2.5, 3.5])]])
ok("1-D tensor is a batch of single values", {"data": {"names": ["score"], "tensor": {"shape": [3], "values": [0.1, 0.2, 0.3]}}},
   [[["score", [scalar(v)]]] for v in [0.1, 0.2, 0.3]])

# 6. proto3 JSON doubles may be "NaN" / "Infinity" strings
ok("tensor values NaN and Infinity as proto3 JSON strings",
   {"data": {"tensor": {"shape": [1, 3], "values": ["NaN", "Infinity", 1.0]}}}, [[["", [scalar(float("nan")), scalar(float("inf")), scalar(1.0)]]]])

# 7. tftensor: tensorContent of float32, float64, int64; typed lists; one value filling the shape; strings
f32 = rng.normal(size=(2, 3)).astype(np.float32)
ok("tftensor DT_FLOAT tensorContent", {"data": array_to_rest_datadef("tftensor", f32, names)}, rows_named(f32.astype(np.float64), names))
f64 = rng.normal(size=(2, 2))
resp = construct_response_json({"data": {"tftensor": {}}}, f64)
ok("tftensor DT_DOUBLE response", resp, rows_named(f64, ["t:0", "t:1"]))
i64 = rng.integers(-1000, 1000, size=(3, 2)).astype(np.int64)
ok("tftensor DT_INT64 tensorContent", {"data": array_to_rest_datadef("tftensor", i64, [])}, rows_positional(i64))
h16 = np.array([[0.5, -2.0, 65504.0]], dtype=np.float16)
ok("tftensor DT_HALF tensorContent", {"data": array_to_rest_datadef("tftensor", h16, [])}, rows_positional(h16.astype(np.float64)))
ok("tftensor int64Val as strings", {"data": {"tftensor": {"dtype": "DT_INT64", "tensorShape": {"dim": [{"size": "2"}, {"size": "1"}]},
                                                          "int64Val": ["7", "-9"]}}},
   [[["", [scalar(7)]]], [["", [scalar(-9)]]]])
ok("tftensor one floatVal fills the shape", {"data": {"tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}, {"size": "2"}]},
                                                                  "floatVal": [0.25]}}},
   [[["", [scalar(0.25)] * 2]]] * 2)
ok("tftensor DT_STRING stringVal", {"data": {"tftensor": {"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "2"}]},
                                                         "stringVal": [base64.b64encode(b"cat").decode(), base64.b64encode(b"dog").decode()]}}},
   [[["", [scalar("cat")]]], [["", [scalar("dog")]]]])

# 8. jsonData: an object is one row, a list is rows (keys sorted, nested arrays flattened)
ok("jsonData object is one row", construct_response_json({}, {"score": 0.9, "label": "fraud"}),
   [[["label", [scalar("fraud")]], ["score", [scalar(0.9)]]]])
ok("jsonData list of rows", {"jsonData": [{"a": 1, "b": [2, 3]}, {"a": 4, "b": [5, 6]}]},
   [[["a", [scalar(1)]], ["b", [scalar(2), scalar(3)]]], [["a", [scalar(4)]], ["b", [scalar(5), scalar(6)]]]])
ok("empty data carries no rows", {"data": {"names": []}, "meta": {}}, [])

# 9. refused with a clear reason
err("strData is unsupported", construct_response_json({}, "a free text answer"), "strData", "not strData", "unsupported")
err("binData is unsupported", construct_response_json({}, b"\x00\x01raw"), "binData", "not binData", "unsupported")
err("jsonData string is unsupported", {"jsonData": "text"}, "jsonData", "object of feature", "unsupported")
err("two payload fields", {"data": {"ndarray": [[1]]}, "strData": "x"}, "body", "exactly one", "invalid_value")
err("tensor values do not fill the shape", {"data": {"tensor": {"shape": [2, 3], "values": [1, 2, 3, 4, 5]}}},
    "data.tensor.values", "has 5 values, shape [2,3] needs 6", "invalid_value")
err("names do not match the columns", {"data": {"names": ["a", "b"], "ndarray": [[1, 2, 3]]}},
    "data.ndarray[0]", "data.names lists 2 names", "invalid_value")
err("tensor names do not match the columns", {"data": {"names": ["a"], "tensor": {"shape": [1, 2], "values": [1, 2]}}},
    "data.names", "has 2 columns", "invalid_value")
err("shape product overflows", {"data": {"tensor": {"shape": [0, 1e11, 1e11], "values": []}}},
    "data.tensor.shape[1]", "elements are accepted per tensor", "too_large")
err("shape claims rows without elements", {"data": {"tensor": {"shape": [9000, 0], "values": []}}},
    "data.tensor.shape", "has no elements but claims 9000 rows", "invalid_value")
err("too many rows", {"data": {"tensor": {"shape": [20000, 1], "values": []}}}, "data.tensor.shape[0]", "--max-rows", "too_large")
err("negative dimension", {"data": {"tensor": {"shape": [-1, 2], "values": [1, 2]}}}, "data.tensor.shape[0]", "non-negative integer", "invalid_value")
err("fractional dimension", {"data": {"tensor": {"shape": [1.5], "values": [1]}}}, "data.tensor.shape[0]", "non-negative integer", "invalid_value")
err("empty row", {"data": {"ndarray": [[1], []]}}, "data.ndarray[1]", "empty row", "invalid_value")
err("a tensor value that is not a number", {"data": {"tensor": {"shape": [1, 2], "values": [1, "x"]}}},
    "data.tensor.values[1]", "must be a number", "invalid_value")
err("tensorContent of the wrong length", {"data": {"tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}]},
                                                               "tensorContent": base64.b64encode(b"\x00" * 7).decode()}}},
    "data.tftensor.tensorContent", "has 7 bytes", "invalid_value")
err("tftensor of an unsupported dtype", {"data": {"tftensor": {"dtype": "DT_COMPLEX64"}}}, "data.tftensor.dtype", "DT_COMPLEX64", "unsupported")
err("names not strings", {"data": {"names": [1], "ndarray": [[1]]}}, "data.names[0]", "must be a string", "invalid_value")

# 10. the request logger's binary-mode CloudEvents (executor/logger/worker.go sendCloudEvent)
puid = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4))


def seldon_headers(ce_type, node="classifier"):
    return {
        "Ce-Specversion": "1.0",
        "Ce-Id": str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4)),
        "Ce-Type": ce_type,
        "Ce-Source": "http://income-default-0-classifier:8000/",
        "Ce-Time": "2026-11-25T16:00:00.123456789Z",
        "Content-Type": "application/json",
        "Ce-Modelid": node,
        "Ce-Requestid": puid,
        "Ce-Inferenceservicename": "income",
        "Ce-Namespace": "seldon",
        "Ce-Endpoint": "default",
        "Ce-Protocol": "seldon",
    }


request = {"data": array_to_rest_datadef("ndarray", features[:1], names)}
response = construct_response_json(request, probs[:1], puid=puid)
events = [
    {"name": "request", "headers": seldon_headers("io.seldon.serving.inference.request"), "body": json.dumps(request),
     "kind": "request", "rows": rows_named(features[:1], names)},
    {"name": "response", "headers": seldon_headers("io.seldon.serving.inference.response"), "body": json.dumps(response),
     "kind": "response", "rows": rows_named(probs[:1], ["t:0", "t:1"])},
    # the truth one-hot over the classes, as the examples of python/seldon_core/metrics_server tests send it: class 1
    {"name": "feedback", "headers": seldon_headers("io.seldon.serving.feedback"),
     "body": json.dumps({"request": request, "response": response, "reward": 1.0, "truth": {"data": {"ndarray": [[0, 1]]}}}),
     "labels": [{"request_id": puid, "label": "1", "reward": 1.0}]},
    # the truth as the class itself
    {"name": "feedback-class", "headers": seldon_headers("io.seldon.serving.feedback"),
     "body": json.dumps({"request": request, "response": response, "truth": {"data": {"names": ["t"], "ndarray": [[0]]}}}),
     "labels": [{"request_id": puid, "label": "0", "value": 0}]},
]

with open(os.path.join(HERE, "seldon_cases.json"), "w") as f:
    # one case per line, so a regeneration diffs case by case
    f.write('{"cases": [\n' + ",\n".join(json.dumps(c) for c in cases) + '\n],\n"events": ')
    f.write(json.dumps({"requestid": puid, "component": "classifier", "service": "income", "list": events}, indent=1) + "}\n")
print("wrote", len(cases), "cases and", len(events), "events")
