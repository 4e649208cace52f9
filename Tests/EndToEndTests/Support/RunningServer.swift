import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `drift-worker serve` started in the background with JSON logs, its standard error collected, and the
/// port of its HTTP endpoints read from its "http listening" log line.
final class RunningServer: @unchecked Sendable {
    let process: Process
    private let lock = NSLock()
    private var collected = Data()

    init(_ args: [String], environment: [String: String]) throws {
        var env = environment
        env["LOG_FORMAT"] = "json"
        process = CLI.process(args + ["--http-host", "127.0.0.1", "--http-port", "0"], environment: env)
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.withLock { self.collected.append(d) }
        }
        try process.run()
    }

    var stderr: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }

    /// The JSON log records written so far.
    var logRecords: [[String: Any]] {
        stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits for the "http listening" record and returns its port.
    func port(timeout: Double = 60) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let r = logRecords.first(where: { $0["message"] as? String == "http listening" }),
                let p = (r["http.port"] as? Int) ?? (r["http.port"] as? String).flatMap(Int.init)
            {
                return p
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerGone(stderr: stderr)
    }

    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    struct ServerGone: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "serve did not report its port; its log:\n\(stderr)" }
    }
}

/// GET http://127.0.0.1:port/path → (status, body).
func httpGet(port: Int, _ path: String) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.timeoutInterval = 30
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// A parsed Prometheus text exposition: metric families by name (from `# TYPE`) and samples.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    var types: [String: String] = [:]
    var samples: [Sample] = []

    /// Parses the text format (0.0.4); throws on a line that is neither a comment nor a valid sample.
    init(_ text: String) throws {
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Bad(line: line) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "),
                let value = Double(
                    line[line.index(after: space)...]
                        .replacingOccurrences(of: "+Inf", with: "inf"))
            else { throw Bad(line: line) }
            let head = line[..<space]
            var labels: [String: String] = [:]
            let name: String
            if let open = head.firstIndex(of: "{") {
                guard head.last == "}" else { throw Bad(line: line) }
                name = String(head[..<open])
                let body = head[head.index(after: open)..<head.index(before: head.endIndex)]
                // label="value" pairs; values here never contain '",'
                for pair in body.components(separatedBy: "\",") where !pair.isEmpty {
                    guard let eq = pair.firstIndex(of: "=") else { throw Bad(line: line) }
                    var v = String(pair[pair.index(after: eq)...])
                    if v.hasPrefix("\"") { v.removeFirst() }
                    if v.hasSuffix("\"") { v.removeLast() }
                    labels[String(pair[..<eq])] = v
                }
            } else {
                name = String(head)
            }
            guard name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil else { throw Bad(line: line) }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    func values(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { s in s.name == name && labels.allSatisfy { k, v in s.labels[k] == v } }?.value
    }

    struct Bad: Error, CustomStringConvertible {
        var line: String
        var description: String { "not a Prometheus exposition line: \(line)" }
    }
}
