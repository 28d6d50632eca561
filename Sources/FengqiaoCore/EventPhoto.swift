import Crypto
import Foundation

/// A photo attached to a grid event (issue 5 "checked by their content … stored once by content
/// hash"). The type is decided by the file's own signature, never by its name or the declared
/// content type.
public enum PhotoFormat: String, Codable, Sendable, CaseIterable {
    case jpeg, png, heic

    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .heic: "image/heic"
        }
    }

    /// HEIF brands in the `ftyp` box (ISO/IEC 23008-12 Annex B: heic, heix, hevc, hevx, heim, heis,
    /// hevm, hevs, and the structural brands mif1 / msf1).
    static let heifBrands: Set<String> = ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]

    /// The format the bytes start with: JPEG `FF D8 FF` (ISO/IEC 10918-1 SOI marker followed by a
    /// marker), PNG `89 50 4E 47 0D 0A 1A 0A` (ISO/IEC 15948 §5.2), HEIC an ISO-BMFF `ftyp` box at
    /// offset 4 whose major brand is a HEIF brand. `nil` for anything else.
    public static func detect(_ bytes: some Collection<UInt8>) -> PhotoFormat? {
        let b = Array(bytes.prefix(12))
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 12, b[4..<8].elementsEqual(Array("ftyp".utf8)),
           let brand = String(bytes: b[8..<12], encoding: .ascii), heifBrands.contains(brand) { return .heic }
        return nil
    }
}

/// A photo that passed the content check: its format, size and SHA-256 content hash.
public struct CheckedPhoto: Sendable, Hashable {
    public var format: PhotoFormat
    public var byteCount: Int
    /// Pixel dimensions read from the file's own header (JPEG SOFn, PNG IHDR, HEIF `ispe`).
    public var width: Int
    public var height: Int
    /// Lower-case hex SHA-256 of the bytes (FIPS 180-4); the storage key.
    public var sha256: String

    /// Checks a photo by content.
    /// - Parameters:
    ///   - field: the form/API field named in errors (`photos[0]`).
    ///   - maxBytes: the configurable size limit.
    /// - Throws: `DomainError.invalidField(field, …)` for an empty file, a file over the limit,
    ///   bytes that are not JPEG, PNG or HEIC, or a file whose structure is broken (the reason
    ///   names the format, what is wrong and where: see `ImageStructure.check`).
    public init(_ data: Data, field: String = "photo", maxBytes: Int) throws(DomainError) {
        guard !data.isEmpty else { throw .invalidField(field: field, reason: "the file is empty") }
        guard data.count <= maxBytes else {
            throw .invalidField(field: field, reason: "the photo is \(data.count) bytes; the limit is \(maxBytes) bytes")
        }
        guard let f = PhotoFormat.detect(data) else {
            throw .invalidField(field: field, reason: "not a JPEG, PNG or HEIC image (checked by content)")
        }
        do {
            let (w, h) = try ImageStructure.check(f, Array(data))
            width = w
            height = h
        } catch {
            throw .invalidField(field: field, reason: .text(error.reason))
        }
        format = f
        byteCount = data.count
        sha256 = Hex.lowercase(SHA256.hash(data: data))
    }

    /// Whether `s` has the shape of a stored content hash (64 lower-case hex digits), so that a
    /// hash taken from a URL can never name a path outside the photo store.
    public static func isContentHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
