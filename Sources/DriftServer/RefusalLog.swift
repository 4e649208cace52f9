import DriftCapture
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// Logs refused capture requests at most once per reason per interval (a hostile or broken client must not
/// flood the log), with how many were refused for that reason since the last line. Messages name the field
/// and the problem; they never carry a token (tokens are checked before decoding and never echoed).
public final class RefusalLog: Sendable {
    struct Entry {
        var lastLogged: Double
        var suppressed: Int
    }
    let logger: Logger
    let interval: Double
    let entries = NIOLockedValueBox<[CaptureDecodeError.Reason: Entry]>([:])

    public init(logger: Logger, interval: Double = 60) {
        self.logger = logger
        self.interval = interval
    }

    public func log(reason: CaptureDecodeError.Reason, message: Logger.Message, detail: String, now: Double = Date().timeIntervalSince1970) {
        let suppressed: Int? = entries.withLockedValue { entries in
            if let e = entries[reason], now - e.lastLogged < interval {
                entries[reason]?.suppressed += 1
                return nil
            }
            let n = entries[reason]?.suppressed ?? 0
            entries[reason] = Entry(lastLogged: now, suppressed: 0)
            return n
        }
        guard let suppressed else { return }
        logger.warning(
            message,
            metadata: [
                "capture.reason": "\(reason.rawValue)", "capture.problem": "\(detail.prefix(300))",
                "capture.refused_since_last_log": .stringConvertible(suppressed)
            ])
    }
}

extension Response {
    /// The same response with another status.
    func with(status: HTTPResponse.Status) -> Response {
        var r = self
        r.status = status
        return r
    }
}
