import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// The standard `process_*` metrics of Prometheus client libraries, read from `/proc/self` at scrape time:
/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
/// `process_open_fds`, `process_max_fds`, `process_start_time_seconds`.
public final class ProcessMetrics: Sendable {
    private let cpu: Counter
    private let rss, vsize, openFDs, maxFDs, start: Gauge
    /// CPU seconds already added to the counter (the counter only goes up by the difference).
    private let cpuReported = NIOLockedValueBox(0.0)

    public init(registry: PrometheusCollectorRegistry) {
        cpu = registry.makeCounter(descriptor: .named("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds."))
        rss = registry.makeGauge(descriptor: .named("process_resident_memory_bytes", help: "Resident memory size in bytes."))
        vsize = registry.makeGauge(descriptor: .named("process_virtual_memory_bytes", help: "Virtual memory size in bytes."))
        openFDs = registry.makeGauge(descriptor: .named("process_open_fds", help: "Number of open file descriptors."))
        maxFDs = registry.makeGauge(descriptor: .named("process_max_fds", help: "Maximum number of open file descriptors."))
        start = registry.makeGauge(descriptor: .named("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds."))
    }

    /// Fields of /proc/self/stat after the command name: index 0 is field 3 (state).
    static func statFields() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    public func update() {
        guard let f = Self.statFields(), f.count > 21 else { return }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        // field 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss  (index = field − 3)
        let cpuNow = ((Double(f[11]) ?? 0) + (Double(f[12]) ?? 0)) / ticks
        cpuReported.withLockedValue { reported in
            if cpuNow > reported {
                cpu.increment(by: cpuNow - reported)
                reported = cpuNow
            }
        }
        vsize.set(Double(f[20]) ?? 0)
        rss.set((Double(f[21]) ?? 0) * page)
        if let boot = Self.bootTime() { start.set(boot + (Double(f[19]) ?? 0) / ticks) }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        openFDs.set(Double(max(0, fds - 1)))  // minus the descriptor of the listing itself
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.set(Double(limit.rlim_cur)) }
    }

    static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
