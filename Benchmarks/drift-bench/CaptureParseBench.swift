import DriftCapture
import DriftCommon
import DriftStats
import Foundation

/// Capture decoding: the bounded parser of our own (`JSONValue.parse`) and the payload decoder, against
/// Foundation's JSONSerialization and Python's `json.loads` on the same bodies in the same run. The bodies are
/// what the HTTP bench sends (a V1 request of 100 instances) and an OIP FP32 tensor [100, 128].
func captureParseBenchmark() {
    let inst =
        #"{"amount": 42.5, "hour_of_day": 13, "merchant_category": "grocery", "country": "US", "device_type": "web", "card_present": "false", "distance_from_home_km": 3.2, "transactions_last_24h": 2, "account_age_days": 400, "avg_amount_30d": 40.1}"#
    let v1 = Data((#"{"instances": ["# + Array(repeating: inst, count: 100).joined(separator: ", ") + "]}").utf8)
    var gen = SplitMix64(seed: 7)
    let values = (0..<12_800).map { _ in String(format: "%.6f", Double(gen.next() % 2_000_000) / 1_000_000 - 1) }
    let oip = Data(
        (#"{"inputs": [{"name": "embedding", "datatype": "FP32", "shape": [100, 128], "data": ["# + values.joined(separator: ", ") + "]}]}").utf8)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-parse-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    print("\nCapture decoding — median of 5 runs; each run decodes the body N times")
    for (name, body, n) in [("V1 request, 100 instances (\(v1.count) B)", v1, 2_000), ("OIP FP32 [100,128] JSON (\(oip.count) B)", oip, 200)] {
        func median(_ f: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                f()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return times.sorted()[2]
        }
        let parse = median { for _ in 0..<n { _ = try! JSONValue.parse(body) } }
        let decode = median { for _ in 0..<n { _ = try! PayloadDecoder.decode(body) } }
        let foundation = median { for _ in 0..<n { _ = try! JSONSerialization.jsonObject(with: body) } }
        let file = dir.appendingPathComponent("body.json")
        try! body.write(to: file)
        let python = pythonJSONSeconds(file.path, n)
        print(
            String(
                format:
                    "  %-40@ ours: parse %.1f µs, parse + decode to rows %.1f µs  |  Foundation JSONSerialization %.1f µs (%.1f×)  |  Python json.loads %@",
                name as NSString, parse / Double(n) * 1e6, decode / Double(n) * 1e6, foundation / Double(n) * 1e6, foundation / parse,
                python.map { String(format: "%.1f µs (%.1f×)", $0 / Double(n) * 1e6, $0 / parse) } ?? "n/a" as String))
    }
}

/// Median of 5 timings of `json.loads` run n times in one Python process (nil without python3).
func pythonJSONSeconds(_ path: String, _ n: Int) -> Double? {
    let script = """
        import json, time, sys
        b = open(sys.argv[1], 'rb').read()
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(int(sys.argv[2])): json.loads(b)
            ts.append(time.perf_counter() - t)
        print(sorted(ts)[2])
        """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script, path, String(n)]
    let out = Pipe()
    p.standardOutput = out
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
}
