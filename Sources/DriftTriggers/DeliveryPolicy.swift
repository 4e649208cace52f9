import DriftCommon
import Foundation

/// What to do after one delivery attempt of a trigger. Pure: the dispatcher records the attempt and applies it.
///
/// 2xx: delivered. 409 when the target uses the action id as the resource name (a Kubernetes Job's
/// `metadata.name`, an Argo workflow's name, an Azure ML job id): already started by an earlier attempt —
/// delivered. Network errors, timeouts, 408, 429 and 5xx: retry after exponential backoff with full jitter
/// (`base · 2^(attempt−1)`, capped), or after `Retry-After` when the target sends it (capped too). Any other
/// 4xx: failed at once (the request itself is wrong; resending cannot help). After `maxAttempts`: dead.
/// What a 2xx means per target, GitHub's rate-limit 403/429 and unfollowed redirects are decided before this, by
/// `TriggerTarget.outcome(of:…)` (PresetOutcomes.swift); `decide` is the generic rest.
public struct DeliveryPolicy: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case delivered(note: String)
        case retry(afterSeconds: Double, reason: String)
        case dead(reason: String)
    }

    public var maxAttempts = 8
    public var baseSeconds = 2.0
    public var capSeconds = 600.0

    public init(maxAttempts: Int = 8, baseSeconds: Double = 2, capSeconds: Double = 600) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// `attempt`: the 1-based number of the attempt just made. `random`: uniform in [0, 1) (full jitter).
    public func decide(
        status: Int?, error: HTTPClientError?, retryAfter: String?, attempt: Int,
        nameIsIdempotencyKey: Bool, now: Date = Date(), random: Double
    ) -> Outcome {
        if let status {
            if (200..<300).contains(status) { return .delivered(note: "HTTP \(status)") }
            if status == 409 && nameIsIdempotencyKey { return .delivered(note: "HTTP 409: already started by an earlier attempt") }
            let retryable = status == 408 || status == 429 || (500..<600).contains(status)
            if !retryable { return .dead(reason: "HTTP \(status): the target refused the request; resending cannot help") }
            return again("HTTP \(status)", retryAfter: retryAfter, attempt: attempt, now: now, random: random)
        }
        let what = error.map { $0.kind == .timeout ? "timed out" : $0.message } ?? "no answer"
        if let error, error.kind == .invalidURL { return .dead(reason: "the target URL is invalid: \(error.message)") }
        return again(what, retryAfter: nil, attempt: attempt, now: now, random: random)
    }

    func again(_ reason: String, retryAfter: String?, attempt: Int, now: Date, random: Double) -> Outcome {
        guard attempt < maxAttempts else { return .dead(reason: "\(reason); gave up after \(attempt) attempts") }
        if let header = retryAfter, let seconds = Self.retryAfterSeconds(header, now: now) {
            return .retry(afterSeconds: min(max(seconds, 0), capSeconds), reason: "\(reason), Retry-After \(header)")
        }
        return .retry(afterSeconds: Backoff.fullJitter(attempt: attempt, base: baseSeconds, cap: capSeconds, random: random), reason: reason)
    }

    /// The longest wait for a rate limit to lift: GitHub's primary limit is counted per hour, so its
    /// `x-ratelimit-reset` is never more than an hour away; a later (or bogus) reset waits this long.
    public static let rateLimitCapSeconds = 3600.0

    /// GitHub's rate-limit answer, as its REST docs ("Rate limits for the REST API", "Best practices") say to
    /// handle it: a 403 or 429 with `retry-after` waits that many seconds (or until that HTTP date); else with
    /// `x-ratelimit-remaining: 0` until `x-ratelimit-reset` (UTC epoch seconds); else, when the body says
    /// "secondary rate limit", one minute. Each wait is capped at `rateLimitCapSeconds`. Nil: not a rate limit
    /// (any other 403 is a refusal).
    public static func rateLimitWait(status: Int, header: (String) -> String?, body: Data, now: Date) -> (seconds: Double, reason: String)? {
        guard status == 403 || status == 429 else { return nil }
        if let h = header("retry-after"), let s = retryAfterSeconds(h, now: now) {
            return (min(max(s, 0), rateLimitCapSeconds), "HTTP \(status): rate limited, retry-after \(h)")
        }
        if header("x-ratelimit-remaining")?.trimmingCharacters(in: .whitespaces) == "0" {
            if let reset = header("x-ratelimit-reset").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), reset.isFinite {
                return (
                    min(max(reset - now.timeIntervalSince1970, 0), rateLimitCapSeconds),
                    "HTTP \(status): rate limit exhausted (x-ratelimit-remaining 0) until x-ratelimit-reset \(abs(reset) < 1e15 ? String(Int(reset)) : String(reset))"
                )
            }
            return (60, "HTTP \(status): rate limit exhausted (x-ratelimit-remaining 0, no x-ratelimit-reset)")
        }
        if String(decoding: body.prefix(4096), as: UTF8.self).lowercased().contains("secondary rate limit") {
            return (60, "HTTP \(status): secondary rate limit")
        }
        return nil
    }

    /// A retry after a rate limit's wait — not the backoff, not capped by `capSeconds` (the target said when) —
    /// unless this was the last attempt.
    public func afterRateLimit(seconds: Double, reason: String, attempt: Int) -> Outcome {
        guard attempt < maxAttempts else { return .dead(reason: "\(reason); gave up after \(attempt) attempts") }
        return .retry(afterSeconds: min(max(seconds, 0), Self.rateLimitCapSeconds), reason: reason)
    }

    /// `Retry-After` as delta-seconds or an HTTP date (IMF-fixdate), in seconds from `now`.
    public static func retryAfterSeconds(_ header: String, now: Date) -> Double? {
        let t = header.trimmingCharacters(in: .whitespaces)
        if let s = Double(t), s >= 0 { return s }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.date(from: t).map { $0.timeIntervalSince(now) }
    }
}
