import Foundation

/// Streaming RFC 4180 reader for CSV and TSV files: a pull iterator of rows.
///
/// The file is read in chunks of `chunkSize` bytes (64 KiB by default) and decoded to UTF-8 chunk
/// by chunk, so memory holds one chunk plus the row being built, whatever the file's size.
/// Quoted fields may hold delimiters, doubled quotes and line breaks; CRLF, LF and lone CR end
/// records; empty lines are skipped. The first row fixes the expected width: a later row of
/// another width comes back with a `.raggedRow` problem rather than stopping the import.
///
/// Errors (`ImportFileError`): `.invalidEncoding(line:)`, `.unterminatedQuote(line:)` at the end
/// of a truncated file, `.recordTooLong(line:)` past `maxRecordBytes`, `.unreadable`.
public final class ImportCSVReader {
    /// Encoding the file is decoded from.
    public let encoding: ImportTextEncoding
    /// Field delimiter byte (`,` or tab).
    public let delimiter: UInt8
    /// Largest row accepted, in UTF-8 bytes; bounds memory when a quote is never closed.
    public let maxRecordBytes: Int

    private let decoder: ImportTextDecoder
    private var chunk: ArraySlice<UInt8> = []
    private var position = 0
    private var endOfFile = false
    private var failed = false

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var recordBytes = 0
    private var recordLine = 0
    /// Line of the byte being read; counts LF, CRLF and lone CR as one break each.
    private var line = 1
    private var lastWasCR = false
    private var expectedWidth: Int?
    private var peakRecordBytes = 0

    /// Opens `url` for reading as `format` (a text format).
    public convenience init(fileAt url: URL, format: ImportFileFormat, chunkSize: Int = 64 * 1024,
                            maxRecordBytes: Int = 1 << 20) throws {
        switch format {
        case .csv(let encoding):
            try self.init(fileAt: url, encoding: encoding, delimiter: UInt8(ascii: ","), chunkSize: chunkSize,
                          maxRecordBytes: maxRecordBytes)
        case .tsv(let encoding):
            try self.init(fileAt: url, encoding: encoding, delimiter: UInt8(ascii: "\t"), chunkSize: chunkSize,
                          maxRecordBytes: maxRecordBytes)
        case .xlsx:
            throw ImportFileError.unreadable("an Excel workbook is read with ImportXLSXReader")
        }
    }

    /// Opens `url` with an explicit encoding and delimiter.
    public init(fileAt url: URL, encoding: ImportTextEncoding, delimiter: UInt8 = UInt8(ascii: ","),
                chunkSize: Int = 64 * 1024, maxRecordBytes: Int = 1 << 20) throws {
        self.encoding = encoding
        self.delimiter = delimiter
        self.maxRecordBytes = maxRecordBytes
        decoder = try ImportTextDecoder(fileAt: url, encoding: encoding, chunkSize: chunkSize)
    }

    /// Most bytes held at once: decoder buffers plus the largest row. Stays near
    /// `2 × chunkSize` + one row however long the file is; the streaming tests check it.
    public var peakBufferedBytes: Int { decoder.peakBufferedBytes + peakRecordBytes }

    /// Bytes of the file read so far (a little ahead of the rows handed out), for progress displays.
    public var bytesRead: Int64 { decoder.bytesRead }

    /// The next row, or nil after the last one.
    public func next() throws -> ImportRow? {
        guard !failed else { return nil }
        do {
            return try readRecord()
        } catch {
            failed = true
            throw error
        }
    }

    private func readRecord() throws -> ImportRow? {
        while true {
            if position >= chunk.endIndex {
                if endOfFile { return try finishAtEnd() }
                chunk = []  // let the decoder reuse its buffer instead of copying it
                if let next = try decoder.next() {
                    chunk = next
                    position = next.startIndex
                } else {
                    endOfFile = true
                    continue
                }
            }
            // Hot loop over the chunk; returns as soon as a record is complete.
            while position < chunk.endIndex {
                let byte = chunk[position]
                position += 1
                let isLF = byte == 0x0A
                let isCR = byte == 0x0D
                let startLine = line
                if isLF { if !lastWasCR { line += 1 } } else if isCR { line += 1 }
                lastWasCR = isCR

                switch state {
                case .fieldStart:
                    if fields.isEmpty && field.isEmpty && recordBytes == 0 {
                        // Between records: skip line breaks (empty lines, the LF of CRLF).
                        if isLF || isCR { continue }
                        recordLine = startLine
                    }
                    if byte == 0x22 {
                        state = .quoted
                    } else if byte == delimiter {
                        endField()
                    } else if isLF || isCR {
                        endField()
                        if let row = endRecord() { return row }
                        continue
                    } else {
                        field.append(byte)
                        state = .unquoted
                    }
                case .unquoted:
                    if byte == delimiter {
                        endField()
                    } else if isLF || isCR {
                        endField()
                        if let row = endRecord() { return row }
                        continue
                    } else {
                        field.append(byte)
                    }
                case .quoted:
                    if byte == 0x22 { state = .quoteInQuoted } else { field.append(byte) }
                case .quoteInQuoted:
                    if byte == 0x22 {
                        field.append(0x22)
                        state = .quoted
                    } else if byte == delimiter {
                        endField()
                    } else if isLF || isCR {
                        endField()
                        if let row = endRecord() { return row }
                        continue
                    } else {
                        // `"abc"def` is not RFC 4180; keep the text as Excel does.
                        field.append(byte)
                        state = .unquoted
                    }
                }
                recordBytes += 1
                if recordBytes > maxRecordBytes {
                    throw ImportFileError.recordTooLong(line: recordLine, limitBytes: maxRecordBytes)
                }
            }
        }
    }

    private func finishAtEnd() throws -> ImportRow? {
        switch state {
        case .quoted:
            throw ImportFileError.unterminatedQuote(line: recordLine)
        case .fieldStart where fields.isEmpty && field.isEmpty && recordBytes == 0:
            return nil
        default:
            endField()
            return endRecord()
        }
    }

    private func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    /// Hands out the finished record; nil for a line holding nothing but spaces.
    private func endRecord() -> ImportRow? {
        peakRecordBytes = max(peakRecordBytes, recordBytes + field.capacity)
        defer {
            fields.removeAll(keepingCapacity: true)
            recordBytes = 0
            state = .fieldStart
        }
        if fields.count == 1, expectedWidth != 1, fields[0].allSatisfy(\.isWhitespace) { return nil }
        var row = ImportRow(line: recordLine, fields: fields)
        if let expected = expectedWidth {
            if fields.count != expected {
                row.problems.append(
                    ImportCellProblem(line: recordLine, column: nil, reason: .raggedRow(expected: expected, found: fields.count)))
            }
            // A text cell starting with "=" is a formula to every spreadsheet that opens the
            // data later (CSV injection, `=HYPERLINK(…)`): refused like an XLSX formula cell.
            for (n, f) in fields.enumerated() where f.utf8.count > 1 && f.utf8.first == UInt8(ascii: "=") {
                row.problems.append(ImportCellProblem(line: recordLine, column: n + 1, reason: .formulaCell))
            }
        } else {
            expectedWidth = fields.count
        }
        return row
    }
}
