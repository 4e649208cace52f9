import DriftCore
import Foundation

/// Two monitors of one model with 5-minute windows: `good` (a real reference file) and `broken` (a reference file
/// that does not exist), with `traffic.csv` holding `perWindow` events in every window of [from, to).
public struct ScheduledTraffic {
    public let scratch: Scratch
    public let config: String

    public init(from: Date, to: Date, perWindow: Int = 2, broken: Bool = false) throws {
        scratch = try Scratch()
        var ref = "x\n"
        for i in 0..<300 { ref += "\(Double(i % 30) / 10)\n" }
        let refPath = scratch.write("ref.csv", ref)
        var traffic = "timestamp,x\n"
        var t = from
        var i = 0
        while t < to {
            for k in 0..<perWindow {
                let at = t.addingTimeInterval(Double(k) * 300 / Double(perWindow) + 1)
                traffic += "\(PGTimeText.iso(at)),\(Double((i + k * 7) % 30) / 10)\n"
            }
            t = t.addingTimeInterval(300)
            i += 1
        }
        _ = scratch.write("traffic.csv", traffic)
        func monitor(_ name: String, _ reference: String) -> String {
            """
              - name: \(name)
                model: bl
                window: PT5M
                lateness: PT0S
                sample_size: 100
                min_sample: 1
                features: [{name: x, kind: numeric}]
                reference: {file: \(reference)}

            """
        }
        config = scratch.write(
            "monitors.yaml",
            "monitors:\n" + monitor("good", refPath)
                + (broken ? monitor("broken", scratch.path("missing-reference.csv")) : ""))
    }

    public var trafficPath: String { scratch.path("traffic.csv") }
}
