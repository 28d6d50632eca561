import FengqiaoCore
import Foundation
import Testing

/// The structural photo check (issue 5 "photos are checked by their content"): real tiny images
/// pass with their dimensions; signatures with broken insides are refused with a reason naming
/// what is wrong.
@Suite("photo structure (JPEG, PNG, HEIC)")
struct ImageStructureTests {
    func reason(_ data: Data) -> String? {
        do {
            _ = try CheckedPhoto(data, maxBytes: 10 << 20)
            return nil
        } catch {
            if case .invalidField(_, let r) = error { return r.english }
            return "\(error)"
        }
    }

    @Test("the built test images are the bytes Pillow decodes (8×8 grey JPEG, 1×1 red PNG)")
    func fixturesAreReal() {
        // Checked with python3 + Pillow: Image.open(...).load() → (8, 8) L 128 and (1, 1) RGB (255, 0, 0).
        let jpegHex = "ffd8ffe000104a46494600010100000100010000ffdb00430001010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101ffc0000b080008000801011100ffc40014000100000000000000000000000000000000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9"
        let pngHex = "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000f494441547801010400fbff00ff0000030101008d1de5820000000049454e44ae426082"
        #expect(Hex.lowercase(TestImages.jpeg()) == jpegHex)
        #expect(Hex.lowercase(TestImages.png()) == pngHex)
    }

    @Test("valid JPEG, PNG and HEIC pass with their dimensions")
    func valid() throws {
        let j = try CheckedPhoto(TestImages.jpeg(width: 16, height: 24), maxBytes: 1 << 20)
        #expect(j.format == .jpeg && j.width == 16 && j.height == 24)
        let p = try CheckedPhoto(TestImages.png(), maxBytes: 1 << 20)
        #expect(p.format == .png && p.width == 1 && p.height == 1)
        let h = try CheckedPhoto(TestImages.heic(width: 4032, height: 3024), maxBytes: 1 << 20)
        #expect(h.format == .heic && h.width == 4032 && h.height == 3024)
        #expect(try CheckedPhoto(TestImages.heic(brand: "mif1"), maxBytes: 1 << 20).format == .heic)
        // A 2 MB JPEG (comment padding) and a trailer after EOI (phones append metadata there).
        #expect(try CheckedPhoto(TestImages.jpeg(padding: 2 << 20), maxBytes: 4 << 20).byteCount > 2 << 20)
        #expect(try CheckedPhoto(TestImages.jpeg() + Data("SEFT trailer".utf8), maxBytes: 1 << 20).width == 8)
        // CRC-32 check value (ISO 3309): "123456789" → CBF43926.
        #expect(ImageStructure.crc32(Array("123456789".utf8), 0..<9) == 0xCBF4_3926)
    }

    @Test("broken JPEGs are refused with the reason")
    func brokenJPEG() {
        // The old check let this through: 11 bytes that only start like a JPEG.
        #expect(reason(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46, 0])).map { $0.contains("declares 16 bytes") } == true)
        let good = TestImages.jpeg()
        // Truncated in the scan (a dropped upload): no EOI.
        #expect(reason(good.prefix(good.count - 2))?.contains("without an EOI") == true)
        // Truncated inside the DQT segment.
        #expect(reason(good.prefix(40))?.contains("FFDB") == true)
        // No frame header: SOF0 replaced by an APP1 of the same length, so the scan comes first.
        var noSOF = Array(good)
        let sof = try! #require(noSOF.indices.first { noSOF[$0] == 0xFF && noSOF[$0 + 1] == 0xC0 })
        noSOF[sof + 1] = 0xE1
        #expect(reason(Data(noSOF))?.contains("before any frame header") == true)
        // Zero width.
        var zero = Array(good)
        zero[sof + 7] = 0; zero[sof + 8] = 0
        #expect(reason(Data(zero))?.contains("announces 0 × 8 pixels") == true)
        // Garbage where a marker belongs.
        var garbage = Array(good)
        garbage[20] = 0x00
        #expect(reason(Data(garbage))?.contains("expected a marker at byte 20") == true)
        // Implausible size: 65535 × 65535 is over 250 Mpx.
        var huge = Array(good)
        for k in (sof + 5)...(sof + 8) { huge[k] = 0xFF }
        #expect(reason(Data(huge))?.contains("implausible dimensions 65535 × 65535") == true)
    }

    @Test("broken PNGs are refused with the reason")
    func brokenPNG() {
        #expect(reason(TestImages.png(ihdrCRC: false)) == "PNG: CRC mismatch in chunk IHDR at byte 8")
        let good = Array(TestImages.png())
        #expect(reason(Data(good.prefix(good.count - 12))) == "PNG: the file ends without an IEND chunk; it is probably truncated")
        #expect(reason(Data(good.prefix(30)))?.contains("IHDR") == true)
        #expect(reason(Data(good + [0]))?.contains("after IEND") == true)
        #expect(reason(TestImages.png(width: 0)) == "PNG: the image has no pixels (0 × 1)")
        #expect(reason(TestImages.png(width: 100_000))?.contains("implausible dimensions") == true)
        // IDAT first, no IHDR.
        let idatFirst = TestImages.pngSignature + TestImages.chunk("IDAT", [1, 2]) + TestImages.chunk("IEND", [])
        #expect(reason(Data(idatFirst)) == "PNG: the first chunk is IDAT, not IHDR")
        // The old 12-byte "PNG" passes the signature only.
        #expect(reason(Data(TestImages.pngSignature + [0, 0, 0, 13])) != nil)
    }

    @Test("broken HEIC files are refused with the reason")
    func brokenHEIC() {
        let good = Array(TestImages.heic())
        #expect(reason(Data(good.prefix(good.count - 10)))?.contains("box mdat") == true)
        #expect(reason(TestImages.heic(withISPE: false))?.contains("no image spatial extent (ispe)") == true)
        #expect(reason(TestImages.heic(width: 0))?.contains("no pixels") == true)
        // The old 24-byte "HEIC": an ftyp and nothing else.
        #expect(reason(Data([0, 0, 0, 0x18]) + Data("ftypheic".utf8) + Data(repeating: 0, count: 12))?.contains("meta") == true)
        // An MP4 is not a photo (no HEIF brand anywhere).
        #expect(reason(Data([0, 0, 0, 0x18]) + Data("ftypisom".utf8) + Data(repeating: 0, count: 12)) == "not a JPEG, PNG or HEIC image (checked by content)")
    }
}
