import CLibPQ
import Foundation

/// One libpq connection. Blocking: use it from one thread at a time, off Swift's cooperative pool
/// (`PostgresClient` runs it on its own threads). Freed with `PQfinish` in `deinit`.
// @unchecked: it wraps a libpq handle, which is not thread-safe; it is handed between threads (pool slot → pool thread)
// but used by one at a time, which `PostgresClient`'s leases guarantee and the compiler cannot see.
public final class PGConnection: @unchecked Sendable {
    private let conn: OpaquePointer

    private init(_ conn: OpaquePointer) { self.conn = conn }

    deinit { PQfinish(conn) }

    /// Connects with a libpq conninfo string ("" applies the PG* environment variables), sets the
    /// session to UTC/ISO with full float precision, and `search_path` to the schema.
    public static func connect(_ settings: ConnectionSettings, requireSchema: Bool = false) throws -> PGConnection {
        // the schema name and a URI shape libpq cannot misread (a password's stray '@' would reach its errors)
        try settings.validate()
        // conninfo (URI or key=value) expanded as libpq's dbname; fallback_application_name applies only when the
        // connection string (or PGAPPNAME) names no application. Defaults BEFORE dbname (the expanded connection string
        // overrides them): a connect gives up after 10 s instead of the OS's minutes of SYN retries, and the client
        // side notices a dead server within about a minute (TCP keepalives; ignored on Unix sockets) — so no pool
        // thread waits on a vanished server for longer than that.
        let keywords = ["connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", "fallback_application_name"]
        let values = ["10", "30", "10", "3", settings.conninfo, settings.applicationName]
        let connected: OpaquePointer? = withCStrings(keywords.map { Optional($0) }) { k in
            withCStrings(values.map { Optional($0) }) { v in
                var k = k + [nil]
                var v = v + [nil]
                return PQconnectdbParams(&k, &v, 1)
            }
        }
        guard let raw = connected else {
            throw PostgresError(.unreachable, "libpq could not allocate a connection")
        }
        let c = PGConnection(raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            throw PostgresError.connectFailure(String(cString: PQerrorMessage(raw)))
        }
        drift_pq_silence_notices(raw)
        func ms(_ seconds: Double) -> Int { seconds.isFinite && seconds > 0 ? Int(min(seconds, 2_000_000) * 1000) : 0 }
        try c.run(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3; SET search_path TO \(settings.quotedSchema), public; "
                + "SET statement_timeout = \(ms(settings.statementTimeout)); SET idle_in_transaction_session_timeout = \(ms(settings.idleInTransactionTimeout)); "
                // the server notices a vanished client (node lost, network partition) within ~1 minute instead of the
                // OS default of hours, ending its session and releasing its advisory locks (ignored on Unix sockets)
                + "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3",
            name: "session.setup")
        if requireSchema {
            let exists = try c.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [settings.schema], name: "session.schema").count == 1
            if !exists {
                throw PostgresError(
                    .schemaMissing,
                    "the schema \"\(settings.schema)\" does not exist in this database; run `drift-worker migrate` (or start with --migrate) to create it"
                )
            }
        }
        return c
    }

    /// Whether the connection is usable.
    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    /// The server's major version, e.g. 15.
    public var serverMajorVersion: Int { Int(PQserverVersion(conn)) / 10_000 }

    /// Runs one or more statements without parameters (DDL, session settings, migrations).
    public func run(_ sql: String, name: String) throws {
        let res = PQexec(conn, sql)
        defer { PQclear(res) }
        try check(res, name: name)
    }

    /// Runs a parameterised statement and returns its rows (text format).
    @discardableResult
    public func query(_ sql: String, _ params: [(any PGEncodable)?] = [], name: String) throws -> PGRows {
        let encoded = params.map { $0?.pgText }
        let res = withCStrings(encoded) { ptrs in
            PQexecParams(conn, sql, Int32(ptrs.count), nil, ptrs, nil, nil, 0)
        }
        defer { PQclear(res) }
        try check(res, name: name)
        return PGRows(res!, statement: name)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try run("BEGIN", name: "transaction.begin")
        do {
            let value = try body(self)
            try run("COMMIT", name: "transaction.commit")
            return value
        } catch {
            if isHealthy { try? run("ROLLBACK", name: "transaction.rollback") }
            throw error
        }
    }

    /// `COPY … FROM STDIN`: sends `data` (already in the COPY format the statement names) in chunks,
    /// ends the copy and returns the number of rows the server loaded.
    @discardableResult
    public func copyIn(_ sql: String, data: some ContiguousBytes, name: String) throws -> Int {
        let start = PQexec(conn, sql)
        let status = PQresultStatus(start)
        if status != PGRES_COPY_IN {
            defer { PQclear(start) }
            try check(start, name: name)
            throw PostgresError(.server, "COPY did not start", statement: name)
        }
        PQclear(start)
        let chunk = 1 << 20
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = min(chunk, raw.count - offset)
                let p = raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                if PQputCopyData(conn, p, Int32(n)) != 1 {
                    let failure = lostOrServer(message: "sending COPY data failed", name: name)
                    abortCopy()
                    throw failure
                }
                offset += n
            }
        }
        if PQputCopyEnd(conn, nil) != 1 { throw lostOrServer(message: "ending COPY failed", name: name) }
        var rows = 0
        var failure: PostgresError? = nil
        while let res = PQgetResult(conn) {
            if PQresultStatus(res) == PGRES_COMMAND_OK {
                rows += Int(String(cString: PQcmdTuples(res))) ?? 0
            } else if failure == nil {
                failure = error(from: res, name: name)
            }
            PQclear(res)
        }
        if let failure { throw failure }
        return rows
    }

    /// Ends a broken COPY and drains its results so the connection is usable (or visibly broken).
    private func abortCopy() {
        _ = PQputCopyEnd(conn, "aborted by drift-worker")
        while let res = PQgetResult(conn) { PQclear(res) }
    }

    // MARK: LISTEN / NOTIFY

    public struct Notification: Sendable, Equatable {
        public var channel: String
        public var payload: String
    }

    /// `LISTEN channel` (the channel is an identifier we quote).
    public func listen(_ channel: String) throws {
        try run("LISTEN \"\(channel.replacingOccurrences(of: "\"", with: ""))\"", name: "notify.listen")
    }

    /// Blocks until notifications arrive on this connection or `wakeup` (a descriptor the caller owns and signals, such
    /// as an eventfd) becomes readable, with no timeout. Returns the notifications (never empty), or nil when woken
    /// through `wakeup`, which it does not read. Throws `PostgresError` (`.connectionLost`) when the connection breaks.
    public func waitForNotifications(orWakeup wakeup: Int32) throws -> [Notification]? {
        let buffered = drainNotifications()
        if !buffered.isEmpty { return buffered }
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw PostgresError(.connectionLost, "the connection has no socket", statement: "notify.wait") }
        let readable = Int16(POLLIN)
        let broken = Int16(POLLERR | POLLHUP | POLLNVAL)
        while true {
            var fds = [pollfd(fd: socket, events: readable, revents: 0), pollfd(fd: wakeup, events: readable, revents: 0)]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                throw PostgresError(.connectionLost, "waiting on the socket failed (errno \(errno))", statement: "notify.wait")
            }
            if fds[1].revents != 0 { return nil }
            guard fds[0].revents != 0 else { continue }
            if PQconsumeInput(conn) != 1 { throw lostOrServer(message: "reading from the server failed", name: "notify.wait") }
            let arrived = drainNotifications()
            if !arrived.isEmpty { return arrived }
            // readable without a notification (another message, or half of one): wait again, unless the socket is gone
            if fds[0].revents & broken != 0 {
                throw PostgresError(.connectionLost, "the server closed the connection", statement: "notify.wait")
            }
        }
    }

    private func drainNotifications() -> [Notification] {
        var out: [Notification] = []
        while let n = PQnotifies(conn) {
            out.append(Notification(channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    // MARK: errors

    private func check(_ res: OpaquePointer?, name: String) throws {
        guard let res else { throw lostOrServer(message: "no result", name: name) }
        switch PQresultStatus(res) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default: throw error(from: res, name: name)
        }
    }

    private func error(from res: OpaquePointer, name: String) -> PostgresError {
        func field(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        let message = field(drift_pq_message(res)) ?? String(cString: PQresultErrorMessage(res)).trimmingCharacters(in: .whitespacesAndNewlines)
        if PQstatus(conn) != CONNECTION_OK {
            return PostgresError(.connectionLost, message.isEmpty ? String(cString: PQerrorMessage(conn)) : message, statement: name)
        }
        let state = field(drift_pq_sqlstate(res))
        let kind: PostgresError.Kind = state == "3F000" ? .schemaMissing : .server
        return PostgresError(kind, message, sqlState: state, detail: field(drift_pq_detail(res)), hint: field(drift_pq_hint(res)), statement: name)
    }

    private func lostOrServer(message: String, name: String) -> PostgresError {
        let libpq = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(isHealthy ? .server : .connectionLost, libpq.isEmpty ? message : libpq, statement: name)
    }
}

/// Calls `body` with a C array of C strings (NULL for nil) valid for the call.
func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0) } }
    defer { for p in owned { free(p) } }
    return body(owned.map { $0.map { UnsafePointer($0) } })
}
