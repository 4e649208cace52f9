import Dispatch

/// Maps over an array on all cores (`DispatchQueue.concurrentPerform`), keeping the order.
///
/// The results go into one buffer allocated before the loop; iteration `i` initializes only element `i` — disjoint
/// memory, so no two threads touch the same location and no array is mutated concurrently (ThreadSanitizer-clean).
public enum ParallelMap {
    public static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        if items.count <= 1 { return items.map(transform) }
        let slots = Slots<R>(count: items.count)
        defer { slots.release() }
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            slots.initialize(i, to: transform(items[i]))
        }
        return slots.values()
    }
}

/// Uninitialized storage for `count` results, each slot initialized exactly once, by one iteration.
private struct Slots<R>: @unchecked Sendable {
    let base: UnsafeMutablePointer<R>
    let count: Int
    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
    }
    func initialize(_ i: Int, to value: R) { (base + i).initialize(to: value) }
    /// Copies the results out; call once every slot is initialized.
    func values() -> [R] { Array(UnsafeBufferPointer(start: base, count: count)) }
    func release() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
