#!/usr/bin/env python3
"""Golden cases for the file/collector capture formats other than Seldon: each case is one line of a capture
file (or of `POST /v1/capture/batch`) and the records drift-worker must decode from it, or the error path.

Writers followed, one per format:
- SageMaker endpoint data capture: the capture record `{"captureData": {"endpointInput"|"endpointOutput":
  {"observedContentType","mode","data","encoding"}}, "eventMetadata", "eventVersion"}` (awsdocs/amazon-sagemaker-
  developer-guide doc_source/model-monitor-data-capture*.md); bodies as the SageMaker Python SDK serializers write
  them: CSVSerializer (Python's csv module: RFC 4180 quoting) and JSONLinesSerializer (aws/sagemaker-python-sdk
  src/sagemaker/base_serializers.py: "\n".join(json.dumps(element))), records as the built-in algorithms take
  and give them (awsdocs/amazon-sagemaker-developer-guide doc_source/cdf-inference.md: {"features": [...]},
  {"data": {"features": {"values"|"keys","shape","values"}}}, {"instances": [...]}, {"predictions": [...]}).
- Azure ML payload logging (`azureml.inference.request` / `response`, `datacontenttype`, `correlationid`,
  `xrequestid`, `contentrange`, `datainblob`) and custom logging: MicrosoftDocs/azure-docs
  articles/machine-learning/how-to-collect-production-data.md (the request/response examples are copied from it).
- KServe's logger writing to storage: kserve/kserve pkg/logger/store.go (BlobStore batches), pkg/logger/marshaller/
  json.go (json.Marshal of []LogRequest) and pkg/logger/types/types.go (LogRequest has no json tags, so Go field
  names; []byte as base64; *url.URL as Go's url.URL struct). Go's encoder writes no spaces, mimicked here.

Fixed seed; writes collector_cases.json.

    python3 Tests/DriftCaptureTests/Fixtures/generate_collector_fixtures.py
"""
import base64
import csv
import datetime
import io
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261130)


def go_json(v):
    """json.Marshal's layout: no spaces."""
    return json.dumps(v, separators=(",", ":"))


def csv_body(rows, lineterminator="\r\n"):
    """Python's csv writer, as SageMaker's CSVSerializer (and pandas.to_csv) quote: minimal, RFC 4180."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def jsonlines(values):
    """aws/sagemaker-python-sdk JSONLinesSerializer.serialize for an iterable."""
    return "\n".join(json.dumps(v) for v in values)


def pos(values):
    return [["", values]]


def keyed(obj):
    """A keyed row: fields sorted by name (JSON object keys have no order), nested arrays flattened."""
    def flat(v):
        return [x for item in v for x in flat(item)] if isinstance(v, list) else [v]
    return [[k, flat(obj[k])] for k in sorted(obj)]


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def sagemaker(event_id, inp=None, out=None, inference_id=None):
    capture = {}
    if inp is not None:
        capture["endpointInput"] = {"observedContentType": inp[0], "mode": "INPUT", "data": inp[1], "encoding": inp[2]}
    if out is not None:
        capture["endpointOutput"] = {"observedContentType": out[0], "mode": "OUTPUT", "data": out[1], "encoding": out[2]}
    meta = {"eventId": event_id, "inferenceTime": "2026-11-29T10:00:00Z"}
    if inference_id:
        meta["inferenceId"] = inference_id
    return json.dumps({"captureData": capture, "eventMetadata": meta, "eventVersion": "0"})


def record(kind, pairing, inputs=(), outputs=(), model=None, source=None, model_version=None, component=None):
    r = {"kind": kind, "pairing_id": pairing, "inputs": list(inputs), "outputs": list(outputs)}
    if model is not None:
        r["model"] = model
    if source is not None:
        r["source"] = source
    if model_version is not None:
        r["model_version"] = model_version
    return r


cases = []


def case(name, line, fmt=None, records=None, error_path=None, error_contains=None):
    c = {"name": name, "line": line}
    if fmt:
        c["format"] = fmt
    if records is not None:
        c["records"] = records
    if error_path is not None:
        c["error_path"] = error_path
        c["error_contains"] = error_contains
    cases.append(c)


# ---------- SageMaker: RFC 4180 CSV ----------
quoted = [[12.5, "New York, NY", "east"], [3, 'say "hi"', "west"]]
case("sagemaker csv: quoted comma and doubled quote",
     sagemaker("e-csv-1", ("text/csv", csv_body(quoted), "CSV"), ("text/csv", "0.91\n0.12\n", "CSV")),
     records=[record("paired", "e-csv-1", [pos([12.5, "New York, NY", "east"]), pos([3, 'say "hi"', "west"])],
                     [pos([0.91]), pos([0.12])], source="sagemaker")])

multi = "\ufeff" + csv_body([[1, "multi\nline", "x"], [2, "", "y"]])
case("sagemaker csv: BOM, CRLF, newline inside quotes, empty field (BASE64)",
     sagemaker("e-csv-2", ("text/csv; charset=utf-8", b64(multi), "BASE64"), inference_id="inf-2"),
     records=[record("request", "inf-2", [pos([1, "multi\nline", "x"]), pos([2, None, "y"])], source="sagemaker")])

case("sagemaker csv: unterminated quote is an error, not a split",
     sagemaker("e-csv-3", ("text/csv", '1,"open,2\n3,4', "CSV")),
     records=[{"error_path": "captureData.endpointInput.data", "error_contains": "never closed"}])

case("sagemaker csv: text after a closing quote",
     sagemaker("e-csv-4", ("text/csv", '1,"a"b,2', "CSV")),
     records=[{"error_path": "captureData.endpointInput.data", "error_contains": "after a closing quote"}])

# ---------- SageMaker: application/jsonlines ----------
dense = [round(rng.uniform(-5, 5), 3) for _ in range(4)]
in_lines = [{"features": dense}, {"data": {"features": {"values": [1.5, 16.0, 14.0, 23.0]}}},
            {"data": {"features": {"keys": [0, 3], "shape": [4], "values": [1, 4]}}}]
out_lines = [{"score": round(rng.random(), 4), "predicted_label": rng.randint(0, 1)} for _ in range(3)]
case("sagemaker jsonlines: dense, data.features.values and sparse records (BASE64, the default encoding)",
     sagemaker("e-jl-1", ("application/jsonlines", b64(jsonlines(in_lines)), "BASE64"),
               ("application/jsonlines", b64(jsonlines(out_lines)), "BASE64")),
     records=[record("paired", "e-jl-1", [pos(dense), pos([1.5, 16.0, 14.0, 23.0]), pos([1, 0, 0, 4])],
                     [keyed(o) for o in out_lines], source="sagemaker")])

case("sagemaker jsonlines: a line holding a whole instances body, an array and a keyed record (JSON encoding)",
     sagemaker("e-jl-2", ("application/jsonlines",
                          jsonlines([{"instances": [{"features": [1, 2]}, {"features": [3, 4]}]}, [5, 6],
                                     {"sepal_length": 5.1, "species_hint": "setosa"}]), "JSON")),
     records=[record("request", "e-jl-2", [pos([1, 2]), pos([3, 4]), pos([5, 6]),
                                           keyed({"sepal_length": 5.1, "species_hint": "setosa"})], source="sagemaker")])

case("sagemaker jsonlines: a bad line names its number",
     sagemaker("e-jl-3", ("application/jsonlines", '{"features": [1]}\n{"features": [2\n', "JSON")),
     records=[{"error_path": "captureData.endpointInput.data line 2", "error_contains": "not valid JSON"}])

# ---------- SageMaker: application/json as the built-in algorithms send it ----------
inst = [{"features": [round(rng.uniform(0, 100), 2) for _ in range(3)]} for _ in range(2)]
preds = {"predictions": [{"closest_cluster": 5, "distance_to_cluster": 36.5}, {"closest_cluster": 2, "distance_to_cluster": 90.3}]}
case("sagemaker json: {instances: [{features}]} and {predictions: [...]}",
     sagemaker("e-json-1", ("application/json", json.dumps({"instances": inst}), "JSON"),
               ("application/json", json.dumps(preds), "JSON")),
     records=[record("paired", "e-json-1", [pos(i["features"]) for i in inst],
                     [keyed(p) for p in preds["predictions"]], source="sagemaker")])

# ---------- Azure ML payload logging (examples from how-to-collect-production-data.md) ----------
src = ("/subscriptions/d511f82f-71ba-49a4-8233-d7be8a3650f4/resourceGroups/mire2etesting/providers/"
       "Microsoft.MachineLearningServices/workspaces/mirmasterenvws/onlineEndpoints/localdev-endpoint/deployments/localdev")
corr = "f6e806c9-1a9a-446b-baa2-901373162105"
req = {"specversion": "1.0", "id": "19790b87-a63c-4295-9a67-febb2d8fbce0", "source": src, "type": "azureml.inference.request",
       "datacontenttype": "application/json", "time": "2022-05-25T08:59:48Z",
       "data": {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]},
       "path": "/score", "method": "POST", "contentrange": "bytes 0-59/*", "correlationid": corr, "xrequestid": corr}
resp = {"specversion": "1.0", "id": "bbd80e51-8855-455f-a719-970023f41e7d", "source": src, "type": "azureml.inference.response",
        "datacontenttype": "application/json", "time": "2022-05-25T08:59:48Z", "data": [11055.977245525679, 4503.079536107787],
        "contentrange": "bytes 0-38/39", "correlationid": corr, "xrequestid": corr}
case("azureml payload logging: request {data: rows}", json.dumps(req),
     records=[record("request", corr, [pos(list(range(1, 11))), pos(list(range(10, 0, -1)))], model="localdev-endpoint", source="azureml")])
case("azureml payload logging: response as a bare array, paired on correlationid", json.dumps(resp), "azureml",
     records=[record("response", corr, outputs=[pos([11055.977245525679]), pos([4503.079536107787])], model="localdev-endpoint", source="azureml")])

oip = {"id": "r1", "model_name": "fraud", "model_version": "4",
       "inputs": [{"name": "amount", "datatype": "FP64", "shape": [2, 1], "data": [10.5, 99.0]},
                  {"name": "merchant", "datatype": "BYTES", "shape": [2, 1], "data": ["food", "travel"]}]}
case("azureml payload logging: an Open Inference Protocol body stored as a string",
     json.dumps(dict(req, id="a2", correlationid="c-oip", xrequestid="c-oip", data=json.dumps(oip))),
     records=[record("request", "c-oip", [[["amount", [10.5]], ["merchant", ["food"]]], [["amount", [99.0]], ["merchant", ["travel"]]]],
                     model="localdev-endpoint", source="azureml", model_version="4")])

case("azureml payload logging: a text/csv body read by the CSV reader",
     json.dumps(dict(req, id="a3", correlationid="c-csv", xrequestid="c-csv", datacontenttype="text/csv",
                     data=csv_body([[7.25, "Portland, OR"]], "\n"))),
     records=[record("request", "c-csv", [pos([7.25, "Portland, OR"])], model="localdev-endpoint", source="azureml")])

split = {"input_data": {"columns": ["age", "city"], "index": [0, 1], "data": [[31, "Oslo"], [47, "Lima"]]}}
case("azureml payload logging: MLflow input_data in pandas split shape",
     json.dumps(dict(req, id="a4", correlationid="c-split", xrequestid="c-split", data=split)),
     records=[record("request", "c-split", [[["age", [31]], ["city", ["Oslo"]]], [["age", [47]], ["city", ["Lima"]]]],
                     model="localdev-endpoint", source="azureml")])

blob = {"specversion": "1.0", "id": "ba993308-f630-4fe2-833f-481b2e4d169a",
        "source": "/subscriptions//resourceGroups//providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep/deployments/dp",
        "type": "azureml.inference.request", "datacontenttype": "text/plain", "time": "2022-02-28T08:41:07Z",
        "data": "https://example.blob.core.windows.net/modeldata/mdc/ba993308-f630-4fe2-833f-481b2e4d169a",
        "path": "/score?size=1", "method": "POST", "contentrange": "bytes 0-80770/80771", "datainblob": "true", "correlationid": "c-blob"}
case("azureml payload logging: a payload kept in a separate blob is refused", json.dumps(blob),
     records=[{"error_path": "datainblob", "error_contains": "separate blob"}])

# ---------- KServe logger writing to storage ----------
def go_url(scheme, host, path):
    """encoding/json of a *url.URL (no MarshalJSON: the struct's exported fields, in declaration order)."""
    return {"Scheme": scheme, "Opaque": "", "User": None, "Host": host, "Path": path, "RawPath": "", "OmitHost": False,
            "ForceQuery": False, "RawQuery": "", "Fragment": "", "RawFragment": ""}


def log_request(body, req_type, rid, content_type="application/json", component="predictor"):
    """types.LogRequest in Go field order, as json.Marshal writes it."""
    return {"Url": go_url("s3", "drift-logs", "/kserve"), "Bytes": base64.b64encode(body).decode("ascii"),
            "ContentType": content_type, "ReqType": req_type, "Id": rid,
            "SourceUri": go_url("http", "localhost:9081", "/"), "InferenceService": "fraud", "Namespace": "models",
            "Component": component, "Endpoint": "", "Metadata": {"X-Request-Id": [rid]}, "Annotations": None,
            "CertName": "", "TlsSkipVerify": False}


REQ, RESP = "org.kubeflow.serving.inference.request", "org.kubeflow.serving.inference.response"
amounts = [round(rng.uniform(1, 500), 2) for _ in range(2)]
v1_req = json.dumps({"instances": [{"amount": a, "merchant_category": "grocery"} for a in amounts]}).encode()
v1_resp = json.dumps({"predictions": [0.12, 0.87]}).encode()
batch = [log_request(v1_req, REQ, "b7d2-0001"), log_request(v1_resp, RESP, "b7d2-0001"),
         dict(log_request(b"", REQ, "b7d2-0002"), Bytes="%%not-base64%%")]
case("kserve storage logger: a JSON array batch (json.Marshal of []LogRequest), one bad element",
     go_json(batch), "kserve",
     records=[record("request", "b7d2-0001", [keyed({"amount": a, "merchant_category": "grocery"}) for a in amounts],
                     model="fraud", source="kserve"),
              record("response", "b7d2-0001", outputs=[pos([0.12]), pos([0.87])], model="fraud", source="kserve"),
              {"error_path": "[2].Bytes", "error_contains": "not base64"}])

oip_resp = json.dumps({"model_name": "fraud", "model_version": "2", "id": "x",
                       "outputs": [{"name": "score", "datatype": "FP32", "shape": [1, 1], "data": [0.25]}]}).encode()
case("kserve storage logger: a lone record as an object (newer JSON marshaller), OIP body, detected",
     go_json(log_request(oip_resp, RESP, "c3-0009")),
     records=[record("response", "c3-0009", outputs=[[["score", [0.25]]]], model="fraud", source="kserve", model_version="2")])

case("kserve storage logger: a text/csv body",
     go_json([log_request(csv_body([[4.5, "Lyon, FR"]], "\n").encode(), REQ, "c4-0001", content_type="text/csv")]), "kserve",
     records=[record("request", "c4-0001", [pos([4.5, "Lyon, FR"])], model="fraud", source="kserve")])

def log_request_tagged(body, req_type, rid, occurrence, content_type="application/json", component="predictor"):
    """types.LogRequest of KServe >= 0.17 as json.Marshal writes it: the JSON tags of kserve/kserve pkg/logger/types.go
    (#5061 `json:"url,omitempty"` ... `json:"tlsSkipVerify,omitempty"`, #5139 `json:"occurrenceTime"`), in declaration
    order, empty strings / nil maps / false omitted; *url.URL still marshals as its struct (it has no tags); a
    time.Time as RFC 3339 with nanoseconds, trailing zeros cut."""
    r = {"url": go_url("s3", "drift-logs", "/kserve"), "bytes": base64.b64encode(body).decode("ascii"),
         "contentType": content_type, "reqType": req_type, "id": rid, "sourceUri": go_url("http", "localhost:9081", "/"),
         "inferenceService": "fraud", "namespace": "models", "component": component,
         "metadata": {"X-Request-Id": [rid]}, "occurrenceTime": occurrence}
    return r


def record_at(time, **kwargs):
    """A record with its expected event time in seconds since 1970 (None: no time, dated when read)."""
    r = record(**kwargs)
    r["time"] = time
    return r


def epoch(text):
    """An RFC 3339 UTC time (nanoseconds allowed) in seconds since 1970."""
    whole, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


tagged = [log_request_tagged(v1_req, REQ, "d5-0001", "2026-11-29T10:00:00.123456789Z"),
          log_request_tagged(v1_resp, RESP, "d5-0001", "2026-11-29T10:00:00.2Z"),
          log_request_tagged(v1_req, REQ, "d5-0002", "0001-01-01T00:00:00Z"),
          dict(log_request_tagged(v1_req, REQ, "d5-0003", "yesterday"))]
case("kserve storage logger >= 0.17: camelCase JSON tags, occurrenceTime (Go's zero time = none; a bad one refused)",
     go_json(tagged), "kserve",
     records=[record_at(epoch("2026-11-29T10:00:00.123456789Z"), kind="request", pairing="d5-0001",
                        inputs=[keyed({"amount": a, "merchant_category": "grocery"}) for a in amounts], model="fraud", source="kserve"),
              record_at(epoch("2026-11-29T10:00:00.2Z"), kind="response", pairing="d5-0001", outputs=[pos([0.12]), pos([0.87])],
                        model="fraud", source="kserve"),
              record_at(None, kind="request", pairing="d5-0002",
                        inputs=[keyed({"amount": a, "merchant_category": "grocery"}) for a in amounts], model="fraud", source="kserve"),
              {"error_path": "[3].occurrenceTime", "error_contains": "not an RFC 3339 time"}])

case("kserve storage logger >= 0.17: a tagged text/csv body; a bad base64 names `bytes`",
     go_json([log_request_tagged(csv_body([[4.5, "Lyon, FR"]], "\n").encode(), REQ, "d6-0001", "2026-11-29T11:00:00Z",
                                 content_type="text/csv"),
              dict(log_request_tagged(b"", REQ, "d6-0002", "2026-11-29T11:00:00Z"), bytes="%%not-base64%%")]), "kserve",
     records=[record_at(epoch("2026-11-29T11:00:00Z"), kind="request", pairing="d6-0001", inputs=[pos([4.5, "Lyon, FR"])],
                        model="fraud", source="kserve"),
              {"error_path": "[1].bytes", "error_contains": "not base64"}])

out = {"generator": "generate_collector_fixtures.py", "cases": cases}
with open(os.path.join(HERE, "collector_cases.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(cases)} cases")
