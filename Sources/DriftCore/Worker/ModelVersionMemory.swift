import NIOConcurrencyHelpers

/// The model versions recently seen on the serving path, so that an event without one (a KServe V1 or OIP request:
/// only the OIP response names `model_version`) is filed under the version its pair, or its sender, carries — a
/// request and its response never split across versions, nor across the roles that role rules give by version.
///
/// Two bounded memories, each forgetting its oldest entry when full, keyed by a hash (SipHash with this process's
/// random seed, so no input can aim at collisions) rather than by the ids themselves:
/// - per pair (model, service, component, source system, pairing id): the version one half carried, for the
///   other half (`pairCapacity` entries);
/// - per sender (model, service, component, `ce-source` — KServe sets it to the pod's name, so one revision): the
///   latest version it sent (`senderCapacity` entries), for the half that arrives first without one.
///
/// A version an event names itself is never overridden. Residual case: a request that arrives before any event of
/// its sender has named a version (the first requests of a new pod, or a sender that never names one) is stored
/// without a version; its response, which names one, is stored under it — that pair is split.
final class ModelVersionMemory: Sendable {
    static let pairCapacity = 100_000
    static let senderCapacity = 10_000

    /// A map that holds at most `capacity` keys, forgetting the oldest inserted.
    struct BoundedMap {
        let capacity: Int
        var values: [Int: String] = [:]
        var order: [Int] = []
        var head = 0

        mutating func set(_ key: Int, _ value: String) {
            guard values.updateValue(value, forKey: key) == nil else { return }
            if order.count < capacity {
                order.append(key)
                return
            }
            values.removeValue(forKey: order[head])
            order[head] = key
            head = (head + 1) % capacity
        }
    }

    private let pairs = NIOLockedValueBox(BoundedMap(capacity: ModelVersionMemory.pairCapacity))
    private let senders = NIOLockedValueBox(BoundedMap(capacity: ModelVersionMemory.senderCapacity))

    static func key(_ parts: String...) -> Int {
        var h = Hasher()
        for p in parts { h.combine(p) }
        return h.finalize()
    }

    /// Records the version an event carried.
    func note(pair: Int, sender: Int, version: String) {
        pairs.withLockedValue { $0.set(pair, version) }
        senders.withLockedValue { $0.set(sender, version) }
    }

    /// The version for an event that names none: its pair's, else its sender's latest; nil when neither is known.
    func inherited(pair: Int, sender: Int) -> String? {
        pairs.withLockedValue { $0.values[pair] } ?? senders.withLockedValue { $0.values[sender] }
    }

    var counts: (pairs: Int, senders: Int) { (pairs.withLockedValue { $0.values.count }, senders.withLockedValue { $0.values.count }) }
}
