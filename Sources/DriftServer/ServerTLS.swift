import Foundation
import NIOSSL

/// TLS for the HTTP listener (`--tls-cert`, `--tls-key`, optional `--tls-client-ca` for mutual TLS), from PEM
/// files read once at start; a later change to the files takes effect on restart.
///
/// `load` reads and checks everything a handshake will need — the certificate chain parses, the key parses
/// and belongs to the leaf certificate, the client CA bundle parses — so a bad file stops the process at start
/// with a sentence naming the flag, never at the first connection.
public struct ServerTLS: Sendable {
    public let configuration: TLSConfiguration

    /// A TLS file that cannot be used; `description` names the flag and the file, never the file's contents.
    public struct FileProblem: Error, CustomStringConvertible, Equatable {
        public var flag: String
        public var path: String
        public var problem: String
        public var description: String { "\(flag) \(path) \(problem)." }
    }

    /// - Parameters:
    ///   - certificate: PEM file with the server certificate first, then any intermediates.
    ///   - key: PEM file with the certificate's private key (unencrypted).
    ///   - clientCA: PEM file with the CA certificates that sign client certificates; when given, every client
    ///     must present a certificate that chains to one of them (no hostname check), else the handshake fails.
    public static func load(certificate: String, key: String, clientCA: String? = nil) throws -> ServerTLS {
        let chain = try certificates(flag: "--tls-cert", path: certificate)
        try readable(flag: "--tls-key", path: key)
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw FileProblem(flag: "--tls-key", path: key, problem: "is not an unencrypted PEM private key (\(error))")
        }
        var configuration: TLSConfiguration
        if let clientCA {
            let roots = try certificates(flag: "--tls-client-ca", path: clientCA)
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(privateKey), trustRoots: .certificates(roots))
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        }
        configuration.minimumTLSVersion = .tlsv12
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw FileProblem(flag: "--tls-key", path: key, problem: "does not belong to the certificate in --tls-cert \(certificate) (\(error))")
        }
        return ServerTLS(configuration: configuration)
    }

    static func certificates(flag: String, path: String) throws -> [NIOSSLCertificate] {
        try readable(flag: flag, path: path)
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(path) } catch {
            throw FileProblem(flag: flag, path: path, problem: "is not a PEM certificate file (\(error))")
        }
        guard !chain.isEmpty else { throw FileProblem(flag: flag, path: path, problem: "holds no PEM certificate") }
        return chain
    }

    static func readable(flag: String, path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw FileProblem(flag: flag, path: path, problem: "cannot be read")
        }
    }
}
