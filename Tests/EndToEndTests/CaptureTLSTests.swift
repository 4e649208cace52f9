import DriftTestSupport
import Foundation
import Testing

/// A throwaway PKI made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1 and a client
/// certificate, all signed by the CA (P-256 keys, valid two days).
struct TestPKI {
    let scratch: Scratch
    var ca: String { scratch.path("ca.pem") }
    var serverCert: String { scratch.path("server.pem") }
    var serverKey: String { scratch.path("server.key") }
    var clientCert: String { scratch.path("client.pem") }
    var clientKey: String { scratch.path("client.key") }

    init() throws {
        scratch = try Scratch()
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try openssl(
            ["req", "-x509"] + ecKey + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=drift-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"
            ])
        for (name, ext) in [("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"), ("client", "extendedKeyUsage=clientAuth\n")] {
            _ = scratch.write("\(name).ext", ext)
            try openssl(["req"] + ecKey + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=drift-test-\(name)"])
            try openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", name == "server" ? "2" : "3",
                "-days", "2", "-out", "\(name).pem", "-extfile", "\(name).ext"
            ])
        }
    }

    func openssl(_ args: [String]) throws {
        let r = try run("/usr/bin/env", ["openssl"] + args, in: scratch.dir)
        guard r.status == 0 else { throw Failed(command: "openssl " + args.joined(separator: " "), output: r.output) }
    }

    struct Failed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(command) failed: \(output)" }
    }
}

/// Runs a program to completion: exit status and standard output + error.
private func run(_ executable: String, _ args: [String], in dir: URL? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let dir { p.currentDirectoryURL = dir }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `curl` (the CLI: it trusts a custom CA with --cacert, which URLSession on Linux may not) → curl's exit status,
/// the HTTP status ("000" when there was no HTTP answer) and the body.
private func curl(_ args: [String]) throws -> (exit: Int32, status: String, body: String) {
    let r = try run("/usr/bin/env", ["curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"] + args)
    let lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
    return (r.status, lines.last.map(String.init) ?? "", lines.dropLast().joined(separator: "\n"))
}

@Suite("HTTP capture over TLS and mutual TLS", .serialized)
struct CaptureTLSTests {
    static let token = "tls-t0ken-8f3a9c"

    @Test func loggersPostOverMutualTLSWithATokenInTheURLAndTheTokenIsNeverLogged() async throws {
        let pki = try TestPKI()
        let schema = try WorkerSchema(prefix: "ctls")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        var env = schema.env
        env["DRIFT_INGEST_TOKEN"] = "  \(Self.token)\n"  // trimmed like the token file
        let server = try RunningServer(
            [
                "ingest-server", "--config", WorkerSchema.config, "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey,
                "--tls-client-ca", pki.ca
            ], environment: env)
        let port = try await server.port()
        let base = "https://127.0.0.1:\(port)"
        let mtls = ["--cacert", pki.ca, "--cert", pki.clientCert, "--key", pki.clientKey]
        // event times near now: the capture window refuses events older than a few days
        let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-600))
        func event(_ id: String) -> [String] {
            [
                "-H", "ce-specversion: 1.0", "-H", "ce-type: org.kubeflow.serving.inference.request", "-H", "ce-id: \(id)",
                "-H", "ce-source: http://localhost:9081/", "-H", "ce-inferenceservicename: fraud", "-H", "ce-time: \(now)",
                "-H", "Content-Type: application/json", "--data-binary", #"{"instances": [{"amount": 12.5, "merchant_category": "grocery"}]}"#
            ]
        }
        let line =
            #"{"specversion": "1.0", "type": "org.kubeflow.serving.inference.request", "id": "ID", "source": "s", "time": "\#(now)", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 3}]}}"#

        // every URL form of the token
        let query = try curl(mtls + event("q-1") + ["\(base)/v1/capture?token=\(Self.token)"])
        #expect(query.exit == 0 && query.status == "200", "\(query)")
        let path = try curl(mtls + event("p-1") + ["\(base)/v1/capture/t/\(Self.token)"])
        #expect(path.exit == 0 && path.status == "200", "\(path)")
        let header = try curl(mtls + event("h-1") + ["-H", "Authorization: bearer \(Self.token)", "\(base)/v1/capture"])
        #expect(header.exit == 0 && header.status == "200", "\(header)")
        let batchQuery = try curl(
            mtls + ["--data-binary", line.replacingOccurrences(of: "\"ID\"", with: "\"bq-1\""), "\(base)/v1/capture/batch?token=\(Self.token)"])
        #expect(batchQuery.status == "200" && batchQuery.body.contains("\"accepted\":1"), "\(batchQuery)")
        let batchPath = try curl(
            mtls + ["--data-binary", line.replacingOccurrences(of: "\"ID\"", with: "\"bp-1\""), "\(base)/v1/capture/t/\(Self.token)/batch"])
        #expect(batchPath.status == "200" && batchPath.body.contains("\"accepted\":1"), "\(batchPath)")
        // a wrong or missing token is still refused
        let wrongPath = try curl(mtls + event("w-1") + ["\(base)/v1/capture/t/not-\(Self.token)"])
        #expect(wrongPath.status == "401" && wrongPath.body.contains("not the one configured"), "\(wrongPath)")
        let missing = try curl(mtls + event("w-2") + ["\(base)/v1/capture"])
        #expect(missing.status == "401" && missing.body.contains("no token was given"), "\(missing)")

        // without a client certificate the handshake fails: no HTTP answer at all
        let noCert = try curl(["--cacert", pki.ca] + event("n-1") + ["\(base)/v1/capture?token=\(Self.token)"])
        #expect(noCert.exit != 0 && noCert.status == "000", "\(noCert)")
        // plain HTTP to the TLS port gets no HTTP answer either
        let plain = try curl(event("n-2") + ["http://127.0.0.1:\(port)/v1/capture?token=\(Self.token)"])
        #expect(plain.exit != 0 && plain.status == "000", "\(plain)")

        // an unknown path that carries the token is a 404 labelled NotFound
        let unknown = try curl(mtls + event("u-1") + ["\(base)/v1/capture/t/\(Self.token)/nope?token=\(Self.token)"])
        #expect(unknown.status == "404", "\(unknown)")

        // the metrics label routes by pattern: the token is nowhere in them
        let metrics = try curl(mtls + ["\(base)/metrics"])
        #expect(metrics.status == "200" && metrics.body.contains("drift_"), "\(metrics.status)")
        #expect(
            metrics.body.contains(#"http_route="/v1/capture/t/{token}""#) && metrics.body.contains(#"http_route="/v1/capture/t/{token}/batch""#),
            "the path forms are labelled by their pattern")
        #expect(!metrics.body.contains(Self.token), "the token leaked into /metrics")
        #expect(try curl(mtls + ["\(base)/healthz"]).status == "200", "still serving")

        #expect(server.terminate() == 0)
        #expect(!server.stderr.isEmpty && !server.stderr.contains(Self.token), "the token leaked into the log")
        #expect(server.stderr.contains("\"http.tls\":true"), "a typed boolean: \(server.stderr)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 5, "q-1, p-1, h-1, bq-1, bp-1")
    }

    @Test func anUnusableCertificateOrKeyStopsTheProcessNamingTheFlag() throws {
        let pki = try TestPKI()
        let garbage = pki.scratch.write("garbage.pem", "not a certificate\n")
        let args = ["ingest-server", "--config", WorkerSchema.config, "--http-host", "127.0.0.1", "--http-port", "0"]
        // exits before any database is needed: the URL points nowhere
        let env = ["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"]
        let cases: [([String], Int32, String)] = [
            (
                ["--tls-cert", pki.scratch.path("missing.pem"), "--tls-key", pki.serverKey], 2,
                "--tls-cert \(pki.scratch.path("missing.pem")) cannot be read"
            ),
            (["--tls-cert", garbage, "--tls-key", pki.serverKey], 2, "--tls-cert \(garbage) is not a PEM certificate file"),
            (["--tls-cert", pki.serverCert, "--tls-key", garbage], 2, "--tls-key \(garbage) is not an unencrypted PEM private key"),
            (["--tls-cert", pki.serverCert, "--tls-key", pki.clientKey], 2, "--tls-key \(pki.clientKey) does not belong to the certificate"),
            (
                ["--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--tls-client-ca", garbage], 2,
                "--tls-client-ca \(garbage) is not a PEM certificate file"
            ),
            (["--tls-cert", pki.serverCert], 2, "--tls-cert and --tls-key go together")
        ]
        for (extra, status, message) in cases {
            let r = try CLI.run(args + extra, environment: env)
            #expect(r.status == status && r.stderr.contains(message), "\(extra): \(r.status) \(r.stderr)")
        }
    }
}
