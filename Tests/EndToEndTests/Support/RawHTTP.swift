import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 exchange over a plain TCP socket on 127.0.0.1: the test writes the exact bytes (lying lengths,
/// odd headers, bodies that stall), so nothing between the test and the server rewrites them.
struct RawHTTP {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
        var closed: Bool
    }
    struct Failure: Error, CustomStringConvertible { var description: String }

    let fd: Int32

    init(port: Int, timeout: Double = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port) failed")
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `data`; false when the server has closed the connection.
    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                off += n
            }
            return true
        }
    }

    func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    /// Reads one response (status line, headers, a Content-Length body) or until the server closes.
    func receive() throws -> Reply {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var closed = false
        while true {
            if let end = buffer.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if buffer.count - end.upperBound >= length || closed {
                    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                    let body = String(decoding: buffer[end.upperBound...].prefix(length), as: UTF8.self)
                    return Reply(status: status, headers: head, body: body, closed: closed)
                }
            } else if closed {
                return Reply(status: 0, headers: "", body: "", closed: true)
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 {
                closed = true
                continue
            }
            if n < 0 { throw Failure(description: "no answer within the timeout (\(buffer.count) bytes so far)") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    func close() { Glibc.close(fd) }

    /// One request on its own connection: `POST path` with the headers and body given (Content-Length is added
    /// unless the headers set it or a Transfer-Encoding).
    static func post(port: Int, path: String = "/v1/capture", headers: [(String, String)], body: Data, timeout: Double = 60) throws -> Reply {
        let c = try RawHTTP(port: port, timeout: timeout)
        defer { c.close() }
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !headers.contains(where: { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        _ = c.send(Data(head.utf8) + body)
        return try c.receive()
    }
}

/// The resident set of a process now and at its peak (kB), from /proc.
func memoryKB(pid: Int32) -> (rss: Int, peak: Int) {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        text.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap {
            Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        } ?? 0
    }
    return (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the process's peak RSS (VmHWM) to its current RSS (`clear_refs` 5), so the next peak is one request's.
func resetPeakMemory(pid: Int32) {
    try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
}
