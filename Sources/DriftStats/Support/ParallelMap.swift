import Dispatch

/// Maps over an array on all cores (`DispatchQueue.concurrentPerform`), keeping the order.
enum ParallelMap {
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        if items.count <= 1 { return items.map(transform) }
        let results = ResultBox<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            results.set(i, transform(items[i]))
        }
        return results.values()
    }
}

/// Disjoint-index writes from concurrent iterations; each slot is written exactly once.
private final class ResultBox<R>: @unchecked Sendable {
    private var storage: [R?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: R) { storage.withUnsafeMutableBufferPointer { $0[i] = value } }
    func values() -> [R] { storage.map { $0! } }
}
