import Foundation

/// A day of the proleptic Gregorian calendar without a time or time zone (birth dates,
/// agreement dates). GB/T 7408 `YYYY-MM-DD`; the leap rule is the Gregorian one (a year
/// divisible by 4 is a leap year, except centuries not divisible by 400: 1900 is not, 2000 is).
/// Years 1–9999.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Year, 1–9999.
    public let year: Int
    /// Month, 1–12.
    public let month: Int
    /// Day of the month, 1–28/29/30/31.
    public let day: Int

    /// Makes a date from its parts.
    /// - Throws: `DomainError.invalidField(field, reason)` when the year lies outside 1–9999,
    ///   the month outside 1–12 or the day outside the month (`2023-02-29`, `1900-02-29`).
    public init(year: Int, month: Int, day: Int, field: String = "date") throws(DomainError) {
        guard (1...9999).contains(year) else {
            throw .invalidField(field: field, reason: .yearOutOfRange(year))
        }
        guard (1...12).contains(month) else {
            throw .invalidField(field: field, reason: .monthOutOfRange(month))
        }
        let days = Self.daysInMonth(month, year: year)
        guard (1...days).contains(day) else {
            throw .invalidField(field: field, reason: .dayOutOfRange(day: day, days: days, yearMonth: "\(Self.pad(year, 4))-\(Self.pad(month, 2))"))
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses 8 ASCII digits `YYYYMMDD` (the form inside a 公民身份号码, GB 11643-1999).
    /// Returns `nil` for any other shape or a day that does not exist.
    public init?(yyyymmdd s: String) {
        let u = Array(s.utf8)
        guard u.count == 8, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let n = u.map { Int($0) - 48 }
        let y = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3]
        let m = n[4] * 10 + n[5]
        let d = n[6] * 10 + n[7]
        guard let date = try? CalendarDate(year: y, month: m, day: d) else { return nil }
        self = date
    }

    /// Parses the ISO 8601 / GB/T 7408 extended form `YYYY-MM-DD`. Returns `nil` for any other
    /// shape or a day that does not exist.
    public init?(iso s: String) {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2 else { return nil }
        self.init(yyyymmdd: parts.joined())
    }

    /// The calendar day of `date` in `timeZone` (Gregorian). Use the time zone of the place the
    /// decision is about (for example `Asia/Shanghai` for a check-in), never the server's default.
    public init(_ date: Date, timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        year = c.year!
        month = c.month!
        day = c.day!
    }

    /// Whether `year` is a Gregorian leap year (divisible by 4, and centuries only when
    /// divisible by 400).
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Number of days of `month` (1–12) in `year`; 0 for a month outside 1–12.
    public static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    /// Full years from `self` to `date` (周岁): the year difference, less one when the
    /// month and day of `date` come before those of `self`. A 29 February birthday is reached on
    /// 1 March in common years. Negative when `date` precedes `self`.
    public func fullYears(until date: CalendarDate) -> Int {
        let years = date.year - year
        return (date.month, date.day) < (month, day) ? years - 1 : years
    }

    /// `YYYYMMDD`.
    public var yyyymmdd: String { Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2) }

    /// Year, month and day as `DateComponents` (no calendar or time zone set).
    public var dateComponents: DateComponents { DateComponents(year: year, month: month, day: day) }

    /// `YYYY-MM-DD`.
    public var description: String { Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// Decodes `YYYY-MM-DD`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let s = try container.decode(String.self)
        guard let date = CalendarDate(iso: s) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a YYYY-MM-DD date: \(s)")
        }
        self = date
    }

    /// Encodes `YYYY-MM-DD`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
