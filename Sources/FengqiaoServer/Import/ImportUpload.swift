import Crypto
import FengqiaoCore
import Foundation
import NIOCore
import Vapor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The POSIX calls the upload writer needs (the names clash with methods inside the class).
private enum Sys {
    #if canImport(Glibc)
        static func open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
        static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
        static func close(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    #else
        static func open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Darwin.open(path, flags, mode) }
        static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
        static func close(_ fd: Int32) -> Int32 { Darwin.close(fd) }
    #endif
}

/// The folder where uploaded files wait for their import job: `<data-dir>/imports/`, mode 0700,
/// each file mode 0600, named by job id. A file lives there only while its job is queued or
/// running; the runner deletes it when the job ends, and the server clears the folder at start.
struct ImportUploads: Sendable {
    let directory: URL

    init(dataDirectory: String) {
        directory = URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent("imports", isDirectory: true)
    }

    func url(for job: UUID) -> URL { directory.appendingPathComponent(job.uuidString.lowercased() + ".upload") }

    /// Creates the folder (owner only) if needed and opens a new file for the job's upload.
    func open(for job: UUID, limit: Int64) throws -> UploadFile {
        let fm = FileManager.default
        if !fm.fileExists(atPath: directory.path) {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        return try UploadFile(url: url(for: job), limit: limit)
    }

    func remove(_ job: UUID) { try? FileManager.default.removeItem(at: url(for: job)) }

    /// Deletes every upload except those of `keep` (jobs this server still holds).
    func removeAll(except keep: Set<UUID> = []) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasSuffix(".upload") {
            if let id = UUID(uuidString: String(name.dropLast(".upload".count))), keep.contains(id) { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}

/// An upload larger than the configured limit (`FENGQIAO_MAX_IMPORT_BYTES`).
struct UploadTooLarge: Error {
    var limit: Int64
}

/// A file being written from a request body, chunk by chunk, with its size and SHA-256 kept as it
/// grows. Writing past `limit` throws `UploadTooLarge` (the caller discards the file). Not
/// thread-safe: one request's task writes it.
final class UploadFile {
    let url: URL
    let limit: Int64
    private var fd: Int32
    private(set) var bytes: Int64 = 0
    private var hasher = SHA256()
    private var pending: [UInt8] = []
    static let blockSize = 256 * 1024

    init(url: URL, limit: Int64) throws {
        self.url = url
        self.limit = limit
        fd = Sys.open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImportFileError.unreadable("cannot create the upload file (errno \(errno))") }
    }

    deinit { if fd >= 0 { _ = Sys.close(fd) } }

    func write(_ buffer: ByteBuffer) throws {
        let n = Int64(buffer.readableBytes)
        guard bytes + n <= limit else { throw UploadTooLarge(limit: limit) }
        buffer.withUnsafeReadableBytes { raw in
            hasher.update(bufferPointer: raw)
            pending.append(contentsOf: raw)
        }
        bytes += n
        // The multipart parser hands over a piece per line of a CSV: write in large blocks.
        if pending.count >= Self.blockSize { try flush() }
    }

    private func flush() throws {
        try pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let w = Sys.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw ImportFileError.unreadable("cannot write the upload file (errno \(errno))")
                }
                offset += w
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes the file. - Returns: its size and SHA-256 (lower-case hex).
    func finish() throws -> (bytes: Int64, sha256: String) {
        if fd >= 0 {
            try flush()
            let rc = Sys.close(fd)
            fd = -1
            guard rc == 0 else { throw ImportFileError.unreadable("cannot close the upload file (errno \(errno))") }
        }
        return (bytes, Hex.lowercase(hasher.finalize()))
    }

    /// Closes and deletes the file.
    func discard() {
        if fd >= 0 { _ = Sys.close(fd); fd = -1 }
        try? FileManager.default.removeItem(at: url)
    }
}

/// Reads a `multipart/form-data` body as it streams in (RFC 7578): the small text fields are kept
/// (each up to 4 KiB, at most 32), and the one file part goes straight to an `UploadFile`, so a
/// large upload never sits in memory. `beforeFile` runs once the fields before the file part are
/// known and before any file byte is written (the CSRF check); what it throws ends the read.
final class MultipartFormStream {
    private let parser: MultipartParser
    private(set) var fields: [String: String] = [:]
    /// The file name the browser sent (`filename=` of the file part), if a file part came.
    private(set) var fileName: String?
    private(set) var error: (any Error)?
    let fileField: String
    private let openFile: () throws -> UploadFile
    private let beforeFile: ([String: String]) throws -> Void
    private(set) var file: UploadFile?

    private var headers: [(String, String)] = []
    private var partStarted = false
    private var current: Part = .skip
    private enum Part { case field(String, [UInt8]), file, skip }

    static let maxFieldBytes = 4096
    static let maxFields = 32

    /// - Parameters:
    ///   - boundary: from the request's `Content-Type`.
    ///   - fileField: the form field holding the file.
    ///   - openFile: creates the file the upload goes to (called once, when the file part starts).
    init(boundary: String, fileField: String, openFile: @escaping () throws -> UploadFile, beforeFile: @escaping ([String: String]) throws -> Void) {
        parser = MultipartParser(boundary: boundary)
        self.fileField = fileField
        self.openFile = openFile
        self.beforeFile = beforeFile
        parser.onHeader = { [unowned self] name, value in
            if self.partStarted { self.endPart() }
            self.headers.append((name, value))
        }
        parser.onBody = { [unowned self] buffer in
            self.startPartIfNeeded()
            self.body(buffer)
        }
        parser.onPartComplete = { [unowned self] in
            self.startPartIfNeeded()
            self.endPart()
        }
    }

    /// Feeds the next chunk of the body. - Throws: the first error met (syntax, limits, `beforeFile`).
    func feed(_ buffer: ByteBuffer) throws {
        if let error { throw error }
        do { try parser.execute(buffer) } catch {
            fail(DomainError.invalidField(field: "file", reason: "the form data is malformed"))
        }
        if let error { throw error }
    }

    /// Closes the file, if one came. Call after the last chunk.
    func finish() throws {
        if let error { throw error }
    }

    /// Closes and deletes the file after a failure.
    func discard() { file?.discard() }

    private func fail(_ e: any Error) {
        if error == nil { error = e }
        current = .skip
    }

    private func startPartIfNeeded() {
        guard !partStarted, error == nil else { return }
        partStarted = true
        let disposition = headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
        let params = Self.dispositionParameters(disposition)
        headers = []
        guard let name = params["name"] else { current = .skip; return }
        if let filename = params["filename"] {
            guard name == fileField, fileName == nil else { current = .skip; return }
            do {
                try beforeFile(fields)
                file = try openFile()
                fileName = filename
                current = .file
            } catch {
                fail(error)
            }
        } else {
            guard fields.count < Self.maxFields else { fail(DomainError.invalidField(field: name, reason: "too many form fields")); return }
            current = .field(name, [])
        }
    }

    private func body(_ buffer: ByteBuffer) {
        switch current {
        case .skip:
            return
        case .file:
            do { try file?.write(buffer) } catch { fail(error) }
        case .field(let name, var bytes):
            bytes.append(contentsOf: buffer.readableBytesView)
            guard bytes.count <= Self.maxFieldBytes else { fail(DomainError.invalidField(field: name, reason: "is too long")); return }
            current = .field(name, bytes)
        }
    }

    private func endPart() {
        if case .field(let name, let bytes) = current, error == nil {
            fields[name] = String(decoding: bytes, as: UTF8.self)
        }
        current = .skip
        partStarted = false
        headers = []
    }

    /// `form-data; name="file"; filename="居民.csv"` → `["name": "file", "filename": "居民.csv"]`.
    /// Browsers send the name as UTF-8 between quotes, with `"` as `%22` and line breaks as `%0D%0A`
    /// (WHATWG HTML, "multipart/form-data encoding").
    static func dispositionParameters(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(value)
        // Skip the disposition type.
        if let semi = rest.firstIndex(of: ";") { rest = rest[rest.index(after: semi)...] } else { return out }
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " || $0 == ";" })
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            var val = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                // No backslash escapes: browsers send `"` as %22 and keep `\` (old Windows
                // browsers send a whole path, C:\…\file.csv).
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                val = String(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                val = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            out[key] = val.replacingOccurrences(of: "%22", with: "\"")
        }
        return out
    }
}

extension Request {
    /// The request body as an async sequence of chunks, with backpressure, whatever the body's
    /// state: streamed (`body: .stream` routes), already collected (tests), or absent. Vapor's own
    /// `for try await chunk in req.body` traps on a request that has no body at all (an empty
    /// chunked POST would stop the server), so uploads read through this instead.
    func bodyChunks() -> RequestBodyChunks {
        let bridge = RequestBodyChunks.Bridge()
        let loop = eventLoop
        body.drain { result in bridge.push(result, on: loop) }
        return RequestBodyChunks(bridge: bridge)
    }
}

/// See `Request.bodyChunks()`. At most `Bridge.window` chunks wait in memory; the connection is
/// not read further until the consumer catches up.
struct RequestBodyChunks: AsyncSequence {
    typealias Element = ByteBuffer
    let bridge: Bridge

    struct AsyncIterator: AsyncIteratorProtocol {
        let bridge: Bridge
        mutating func next() async throws -> ByteBuffer? { try await bridge.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bridge: bridge) }

    /// The consumer stops reading (call when done, also after an error): whatever else arrives
    /// is dropped and a waiting producer is released.
    func cancel() { bridge.cancel() }

    final class Bridge: @unchecked Sendable {
        static let window = 4
        private let lock = NSLock()
        private var buffered: [ByteBuffer] = []
        private var ended: (any Error)??
        private var consumer: CheckedContinuation<ByteBuffer?, any Error>?
        private var gate: EventLoopPromise<Void>?
        private var discarding = false

        func cancel() {
            lock.lock()
            discarding = true
            buffered = []
            let g = gate
            gate = nil
            lock.unlock()
            g?.succeed(())
        }

        /// Producer side, on the event loop: the returned future completes when more may come.
        func push(_ result: BodyStreamResult, on loop: any EventLoop) -> EventLoopFuture<Void> {
            lock.lock()
            if discarding {
                lock.unlock()
                return loop.makeSucceededVoidFuture()
            }
            switch result {
            case .buffer(let b):
                if let c = consumer {
                    consumer = nil
                    lock.unlock()
                    c.resume(returning: b)
                    return loop.makeSucceededVoidFuture()
                }
                buffered.append(b)
                guard buffered.count >= Self.window else {
                    lock.unlock()
                    return loop.makeSucceededVoidFuture()
                }
                let p = loop.makePromise(of: Void.self)
                gate = p
                lock.unlock()
                return p.futureResult
            case .end, .error:
                var error: (any Error)?
                if case .error(let e) = result { error = e }
                ended = .some(error)
                let c = buffered.isEmpty ? consumer : nil
                if c != nil { consumer = nil }
                lock.unlock()
                if let c {
                    if let error { c.resume(throwing: error) } else { c.resume(returning: nil) }
                }
                return loop.makeSucceededVoidFuture()
            }
        }

        /// Consumer side: the next chunk, `nil` at the end.
        func next() async throws -> ByteBuffer? {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<ByteBuffer?, any Error>) in
                lock.lock()
                if !buffered.isEmpty {
                    let b = buffered.removeFirst()
                    let g = buffered.count < Self.window / 2 ? gate : nil
                    if g != nil { gate = nil }
                    lock.unlock()
                    g?.succeed(())
                    c.resume(returning: b)
                    return
                }
                if let e = ended {
                    lock.unlock()
                    if let e { c.resume(throwing: e) } else { c.resume(returning: nil) }
                    return
                }
                consumer = c
                let g = gate
                gate = nil
                lock.unlock()
                g?.succeed(())
            }
        }
    }
}
