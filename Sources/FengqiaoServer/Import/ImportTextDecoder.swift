import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a text file in fixed-size chunks and hands out its content as UTF-8 bytes.
///
/// Every encoding goes through iconv, UTF-8 included, so invalid input is caught the same way
/// everywhere. Foundation's `String(data:encoding:)` can decode GB18030 on Linux too, but only a
/// whole buffer at once; iconv keeps an incomplete multi-byte sequence at a chunk's end for the
/// next chunk, which is what streaming needs. A leading U+FEFF is dropped.
final class ImportTextDecoder {
    let encoding: ImportTextEncoding
    let chunkSize: Int
    private let handle: FileHandle
    private let converter: iconv_t
    /// Input bytes not yet converted (an incomplete sequence carried over from the last chunk).
    private var carry: [UInt8] = []
    private var output: [UInt8]
    private var atStart = true
    private var finished = false
    /// Line breaks in everything handed out so far, so an encoding error can name its line.
    private var linesBefore = 0
    private var lastWasCR = false
    /// Bytes of the file read so far, for progress displays.
    private(set) var bytesRead: Int64 = 0
    /// Largest number of bytes held at once in the input and output buffers.
    private(set) var peakBufferedBytes = 0

    init(fileAt url: URL, encoding: ImportTextEncoding, chunkSize: Int = 64 * 1024) throws {
        self.encoding = encoding
        self.chunkSize = max(chunkSize, 16)
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw ImportFileError.unreadable(url.lastPathComponent)
        }
        let cd = iconv_open("UTF-8", encoding.iconvName)
        guard let cd, cd != iconv_t(bitPattern: -1) else {
            try? handle.close()
            throw ImportFileError.unreadable("no converter for \(encoding.displayName) on this system")
        }
        converter = cd
        // The worst growth into UTF-8 is 3 bytes per 2 input bytes (UTF-16, GB18030 two-byte forms).
        output = [UInt8](repeating: 0, count: self.chunkSize * 2 + 64)
    }

    deinit {
        iconv_close(converter)
        try? handle.close()
    }

    /// The next piece of UTF-8 text, or nil at the end of the file.
    /// - Throws: `ImportFileError.invalidEncoding` naming the line of the first bad sequence.
    func next() throws -> ArraySlice<UInt8>? {
        while !finished {
            let data: Data
            do {
                data = try handle.read(upToCount: chunkSize) ?? Data()
            } catch {
                throw ImportFileError.unreadable(String(describing: error))
            }
            if data.isEmpty {
                finished = true
                if !carry.isEmpty {
                    throw ImportFileError.invalidEncoding(line: linesBefore + 1, encoding: encoding)
                }
                return nil
            }
            bytesRead += Int64(data.count)
            carry.append(contentsOf: data)
            peakBufferedBytes = max(peakBufferedBytes, carry.count + output.count)
            let produced = try convertCarry()
            if atStart, produced > 0 {
                atStart = false
                if produced >= 3, output[0] == 0xEF, output[1] == 0xBB, output[2] == 0xBF {
                    countLines(output[3..<produced])
                    return output[3..<produced]
                }
            }
            if produced > 0 {
                countLines(output[0..<produced])
                return output[0..<produced]
            }
        }
        return nil
    }

    /// Converts as much of `carry` as possible into `output`; returns the bytes produced and
    /// leaves an incomplete trailing sequence in `carry`.
    private func convertCarry() throws -> Int {
        if output.count < carry.count * 2 + 64 {
            output = [UInt8](repeating: 0, count: carry.count * 2 + 64)
        }
        let total = carry.count
        var inLeft = total
        var outLeft = output.count
        let outCapacity = output.count
        var failure: Int32 = 0
        carry.withUnsafeMutableBytes { inRaw in
            output.withUnsafeMutableBytes { outRaw in
                var inPtr: UnsafeMutablePointer<CChar>? = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                if iconv(converter, &inPtr, &inLeft, &outPtr, &outLeft) == -1 {
                    failure = errno
                }
            }
        }
        let produced = outCapacity - outLeft
        switch failure {
        case 0, EINVAL:
            // EINVAL: an incomplete sequence at the end; it is completed by the next chunk.
            carry.removeFirst(total - inLeft)
            return produced
        default:
            // EILSEQ (or E2BIG, which the sizing above rules out): name the line of the bad byte.
            var lines = linesBefore
            var lastCR = lastWasCR
            for byte in output[0..<produced] {
                if byte == 0x0A { if !lastCR { lines += 1 } } else if byte == 0x0D { lines += 1 }
                lastCR = byte == 0x0D
            }
            throw ImportFileError.invalidEncoding(line: lines + 1, encoding: encoding)
        }
    }

    private func countLines(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            if byte == 0x0A { if !lastWasCR { linesBefore += 1 } } else if byte == 0x0D { linesBefore += 1 }
            lastWasCR = byte == 0x0D
        }
    }
}
