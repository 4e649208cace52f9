#!/usr/bin/env python3
"""One small example per serving-path capture format, made from the first 20 inferences of the drifted hour of
the sample traffic (2026-11-25T16:00Z, fraud/traffic.csv.gz), following each format's documented shape:

- kserve-v1.jsonl       KServe payload-logger CloudEvents in structured mode, V1 bodies (request + response)
- kserve-oip.jsonl      the same with Open Inference Protocol bodies (one tensor per feature; BYTES for text)
- azureml-model_inputs.jsonl, azureml-model_outputs.jsonl
                        Azure ML online endpoint data collector records, paired on correlationid
- sagemaker.jsonl       SageMaker data capture: JSON input, CSV output, paired in one record

    python3 sample-data/capture/generate_capture.py
"""
import csv
import gzip
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(HERE, "..", "fraud", "traffic.csv.gz")
NUMERIC = ["amount", "hour_of_day", "distance_from_home_km", "transactions_last_24h", "account_age_days", "avg_amount_30d"]
TEXT = ["merchant_category", "country", "device_type", "card_present"]


def rows(n=20, start="2026-11-25T16:00:00Z"):
    with gzip.open(TRAFFIC, "rt", newline="") as f:
        out = []
        for r in csv.DictReader(f):
            if r["timestamp"] >= start:
                out.append(r)
                if len(out) == n:
                    return out


def instance(r):
    d = {c: float(r[c]) for c in NUMERIC if r[c] != ""}
    d.update({c: r[c] for c in TEXT})
    return d


def write(name, records):
    with open(os.path.join(HERE, name), "w") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote sample-data/capture/{name} ({len(records)} lines)")


def ce(kind, r, data):
    return {"specversion": "1.0", "type": f"org.kubeflow.serving.inference.{kind}", "id": r["request_id"],
            "source": "http://localhost:9081/", "time": r["timestamp"], "datacontenttype": "application/json",
            "inferenceservicename": "fraud", "namespace": "payments", "component": "predictor", "endpoint": "", "data": data}


def main():
    rs = rows()
    write("kserve-v1.jsonl", [x for r in rs for x in (
        ce("request", r, {"instances": [instance(r)]}),
        ce("response", r, {"predictions": [{"score": float(r["score"])}]}))])

    def tensors(r):
        inst = instance(r)
        out = []
        for c in NUMERIC + TEXT:
            if c in inst:
                dt = "FP64" if c in NUMERIC else "BYTES"
                out.append({"name": c, "shape": [1], "datatype": dt, "data": [inst[c]]})
        return out
    write("kserve-oip.jsonl", [x for r in rs for x in (
        ce("request", r, {"id": r["request_id"], "inputs": tensors(r)}),
        ce("response", r, {"model_name": "fraud", "model_version": "v3", "id": r["request_id"],
                           "outputs": [{"name": "score", "shape": [1, 1], "datatype": "FP32", "data": [float(r["score"])]}]}))])

    source = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml/providers/"
              "Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/fraud/deployments/blue")

    def azure(kind, r, data):
        return {"specversion": "1.0", "id": r["request_id"] + "-" + kind, "source": source, "type": f"azureml.inference.{kind}",
                "datacontenttype": "application/json", "time": r["timestamp"], "data": data, "correlationid": r["request_id"],
                "xrequestid": r["request_id"], "modelversion": "3", "collectdatatype": "pandas.core.frame.DataFrame",
                "agent": "azureml-ai-monitoring/0.1.0b4"}
    write("azureml-model_inputs.jsonl", [azure("model_inputs", r, [instance(r)]) for r in rs])
    write("azureml-model_outputs.jsonl", [azure("model_outputs", r, [{"score": float(r["score"])}]) for r in rs])

    write("sagemaker.jsonl", [{
        "captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": json.dumps({"instances": [instance(r)]}), "encoding": "JSON"},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                               "data": r["score"], "encoding": "CSV"}},
        "eventMetadata": {"eventId": "evt-" + r["request_id"], "inferenceId": r["request_id"], "inferenceTime": r["timestamp"]},
        "eventVersion": "0"} for r in rs])


if __name__ == "__main__":
    main()
