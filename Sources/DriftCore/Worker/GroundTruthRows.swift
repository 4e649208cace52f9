import DriftCapture
import DriftStore
import Foundation

extension GroundTruthLabel {
    /// The row to store: a label without a time is timed by its arrival (`now`).
    public func row(now: Date) -> GroundTruthWriter.Row {
        GroundTruthWriter.Row(model: model, requestID: requestID, label: label, value: value, reward: reward, labelledAt: time ?? now)
    }
}
