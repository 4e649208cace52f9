import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A whole file mapped read-only and private (`mmap(PROT_READ, MAP_PRIVATE)`), unmapped when the value goes.
/// Its pages are the page cache's, so reading them copies nothing; `discard(before:)` drops the pages already read
/// from the process (`MADV_DONTNEED`: a later read would fault them in again from the file), so a front-to-back
/// reader keeps about one page of the file resident instead of all of it. The file must not be truncated while it
/// is mapped (reading past its new end raises SIGBUS); files replaced by rename, as `ProfileFile.write` does, are safe.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer
    private var discarded = 0
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    struct OpenError: Error, CustomStringConvertible {
        var description: String
        init(_ operation: String, _ code: Int32) { description = "\(operation): \(String(cString: strerror(code)))" }
        init(_ description: String) { self.description = description }
    }

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError("open", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenError("fstat", errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw OpenError("not a regular file") }
        guard let size = Int(exactly: info.st_size), size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { throw OpenError("mmap", errno) }
        _ = madvise(base, size, MADV_SEQUENTIAL)  // a hint for read-ahead; failure changes nothing
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// Drops the whole pages before `offset` (which will not be read again) from the process.
    func discard(before offset: Int) {
        let end = min(offset, bytes.count) / Self.pageSize * Self.pageSize
        guard end > discarded, let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + discarded), end - discarded, MADV_DONTNEED)
        discarded = end
    }
}
